import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

/// The data dir's disk fills up while people send: sends are refused with `storage_full`,
/// nothing is acked that is not stored, the server stays up, and it recovers when space is freed.
/// Needs root to mount a small tmpfs (CI runs as root).
@Suite struct DiskFullTests {
    @Test(.enabled(if: getuid() == 0)) func aFullDiskRefusesSendsAndRecovers() async throws {
        let mountPoint = FileManager.default.temporaryDirectory.appending(path: "hearth-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: mountPoint) }
        try #require(shell("mount -t tmpfs -o size=4m tmpfs '\(mountPoint.path)'") == 0)
        defer { _ = shell("umount '\(mountPoint.path)'") }
        let data = mountPoint.appending(path: "data")
        let filler = mountPoint.appending(path: "filler")

        try await withLiveApp(directory: data) { family in
            let mum = try await family.socket(try await family.signIn("mum"))
            _ = try await family.signIn("dad")
            let room = try await family.directRoom("mum", "dad")
            _ = try await mum.next("room")  // the new chat, announced live
            // Fill the disk but for 256 KiB: some sends fit, then the disk is full.
            var stats = statvfs()
            try #require(statvfs(mountPoint.path, &stats) == 0)
            let free = Int64(stats.f_bavail) * Int64(stats.f_frsize)
            _ = shell("head -c \(max(0, free - 256 * 1024)) /dev/zero > '\(filler.path)'")

            var acked: [String] = []
            var refused: [String] = []
            let body = String(repeating: "a full disk, ", count: 400)
            for index in 0..<400 where refused.isEmpty {
                let id = "full-\(index)"
                try await mum.send(["type": "send", "id": id, "room": room, "body": body])
                let reply = try await mum.next()
                if reply["type"] as? String == "ack" {
                    acked.append(id)
                } else {
                    #expect(reply["code"] as? String == "storage_full", "\(reply)")
                    refused.append(id)
                }
            }
            #expect(!refused.isEmpty, "the disk never filled")
            #expect(acked.count > 0, "nothing fitted before the disk was full")
            // While it stays full, every send is refused, and refused again on a retry.
            for index in 0..<5 {
                let id = index == 0 ? refused[0] : "full-more-\(index)"
                try await mum.send(["type": "send", "id": id, "room": room, "body": body])
                #expect(try await mum.next()["code"] as? String == "storage_full")
            }

            // The server is up: the socket answers, and reading works.
            try await mum.send(["type": "ping", "id": "still-there"])
            _ = try await mum.next("pong")
            #expect(try await family.http("GET", "/admin").status == 200)

            // Space comes back: the refused message goes through on a retry (the client's outbox).
            try FileManager.default.removeItem(at: filler)
            try await mum.send(["type": "send", "id": refused[0], "room": room, "body": body])
            let retry = try await mum.next()
            #expect(retry["type"] as? String == "ack", "\(retry)")
            acked.append(refused[0])

            // Every acked message is stored once; nothing else is.
            let stored = try await family.env.services.database.read { store in
                try store.history(roomID: room, before: nil, limit: 1000)
            }
            #expect(stored.count == acked.count)
            await mum.close()
        }
    }
}
