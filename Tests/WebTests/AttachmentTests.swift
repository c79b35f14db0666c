import Credentials
import Crypto
import Foundation
import HearthTestSupport
import Services
import Storage
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Attachments over a live server: upload, share in a message, download, ranges and limits.
@Suite struct AttachmentTests {
    /// A real PNG (a QR code), 8 px per module.
    static let png = Data((try? QRCode("https://hearth.example/photo").png()) ?? [])

    func download(
        _ family: Family, _ id: String, token: String, range: String? = nil
    ) async throws
        -> (status: Int, data: Data, headers: [AnyHashable: Any])
    {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(family.port)/api/v1/attachments/\(id)")!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let range { request.setValue(range, forHTTPHeaderField: "Range") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, data, http?.allHeaderFields ?? [:])
    }

    func hex(_ data: Data) -> String { SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined() }

    @Test func aPhotoIsSharedAndOnlyMembersCanFetchIt() async throws {
        try await withLiveApp { family in
            let mumToken = try await family.signIn("mum")
            let dadToken = try await family.signIn("dad")
            let strangerToken = try await family.signIn("stranger")
            let room = try await family.directRoom("mum", "dad")

            let uploaded = try await family.upload(Self.png, type: "image/png", token: mumToken)
            #expect(uploaded.status == 201)
            let attachment = try #require(uploaded.json["attachment"] as? [String: Any])
            let id = try #require(attachment["id"] as? String)
            #expect(attachment["sha256"] as? String == hex(Self.png))
            #expect(attachment["size"] as? Int == Self.png.count)
            #expect(attachment["width"] as? Int == attachment["height"] as? Int)
            #expect((attachment["width"] as? Int ?? 0) > 100)
            #expect(attachment["name"] as? String == "photo.png")
            // Before it is shared, only the uploader sees it.
            #expect(try await download(family, id, token: mumToken).status == 200)
            #expect(try await download(family, id, token: dadToken).status == 404)

            let mum = try await family.socket(mumToken)
            let dad = try await family.socket(dadToken)
            try await mum.send(["type": "send", "id": "p1", "room": room, "body": "", "attachments": [id]])
            _ = try await mum.next("ack")
            let message = try await dad.next("message")
            let files = try #require(message["attachments"] as? [[String: Any]])
            #expect(files.first?["id"] as? String == id && files.first?["contentType"] as? String == "image/png")

            let fetched = try await download(family, id, token: dadToken)
            #expect(fetched.status == 200)
            #expect(hex(fetched.data) == hex(Self.png))
            #expect(fetched.headers["Content-Type"] as? String == "image/png")
            #expect(fetched.headers["X-Content-Type-Options"] as? String == "nosniff")
            #expect(
                (fetched.headers["Content-Disposition"] as? String)?.hasPrefix("inline; filename=\"photo.png\"") == true
            )
            #expect(
                fetched.headers["Etag"] as? String == "\"\(hex(Self.png))\""
                    || fetched.headers["ETag"] as? String == "\"\(hex(Self.png))\"")
            let missing = try await download(family, id, token: strangerToken)
            #expect(missing.status == 404)
            #expect(try await download(family, "nosuchid", token: dadToken).status == 404)

            // History carries the attachment too, in the very object the socket sent, as does the
            // room list's last message; sharing the same upload again is refused.
            let history = try await family.call("GET", "/api/v1/rooms/\(room)/messages", token: dadToken)
            let page = try #require(history.json["messages"] as? [[String: Any]])
            #expect(page.count == 1 && NSDictionary(dictionary: page[0]).isEqual(to: message))
            let rooms = try #require(
                try await family.call("GET", "/api/v1/rooms", token: dadToken).json["rooms"] as? [[String: Any]])
            let last = try #require(rooms.first?["lastMessage"] as? [String: Any])
            #expect(NSDictionary(dictionary: last).isEqual(to: message))
            try await mum.send(["type": "send", "id": "p2", "room": room, "body": "again", "attachments": [id]])
            #expect(try await mum.next("error")["code"] as? String == "not_found")
            // Someone else's upload cannot be sent.
            let dadsFile = try #require(
                (try await family.upload(Self.png, type: "image/png", token: dadToken).json["attachment"]
                    as? [String: Any])?["id"] as? String)
            try await mum.send(["type": "send", "id": "p3", "room": room, "body": "x", "attachments": [dadsFile]])
            #expect(try await mum.next("error")["code"] as? String == "not_found")
            await mum.close()
            await dad.close()
        }
    }

    @Test func rangesForAudioAndVideo() async throws {
        try await withLiveApp { family in
            let token = try await family.signIn("mum")
            var audio = Data("ID3".utf8)
            audio.append(Data((0..<600_000).map { UInt8($0 % 251) }))
            let id = try #require(
                (try await family.upload(audio, type: "audio/mpeg", token: token, name: "note.mp3").json["attachment"]
                    as? [String: Any])?["id"] as? String)
            let first = try await download(family, id, token: token, range: "bytes=0-9")
            #expect(first.status == 206)
            #expect(first.data == audio.prefix(10))
            #expect(first.headers["Content-Range"] as? String == "bytes 0-9/\(audio.count)")
            let across = try await download(family, id, token: token, range: "bytes=262140-262150")
            #expect(across.data == audio[262_140...262_150])
            let tail = try await download(family, id, token: token, range: "bytes=-5")
            #expect(tail.data == audio.suffix(5))
            let outside = try await download(family, id, token: token, range: "bytes=900000-")
            #expect(outside.status == 416)
            #expect(outside.headers["Content-Range"] as? String == "bytes */\(audio.count)")
            #expect(try await download(family, id, token: token).data == audio)
        }
    }

    @Test func badUploadsAreRefusedAndLeaveNothing() async throws {
        try await withLiveApp({ configuration in
            configuration.limits.attachmentMaxBytes = 5_000
            configuration.limits.attachmentQuotaBytes = 8_000
        }) { family in
            let token = try await family.signIn("mum")
            let text = Data("just some words\n".utf8)
            let cases: [(Data, String, Int, String)] = [
                (text, "image/png", 415, "type_mismatch"),
                (text, "application/x-msdownload", 415, "unsupported_type"),
                (Data(), "text/plain", 400, "empty_body"),
                (Data(repeating: 65, count: 6_000), "text/plain", 413, "too_large"),
            ]
            for (data, type, status, code) in cases {
                let result = try await family.upload(data, type: type, token: token)
                #expect(result.status == status, "\(code)")
                #expect((result.json["error"] as? [String: Any])?["code"] as? String == code)
            }
            #expect(
                try await family.upload(Data(repeating: 66, count: 4_500), type: "text/plain", token: token).status
                    == 201)
            let over = try await family.upload(Data(repeating: 67, count: 4_500), type: "text/plain", token: token)
            #expect(over.status == 413)
            #expect((over.json["error"] as? [String: Any])?["code"] as? String == "quota_exceeded")
            try await Task.sleep(for: .milliseconds(200))
            let rows = try await family.env.services.database.read { try $0.attachmentBytes(ownerID: 1) }
            #expect(rows == 4_500)
        }
    }

    /// One real file of each kind families send, made by the tools that make them
    /// (Tests/Scripts/make_samples.py), is recognised by its bytes: with the type a browser gives,
    /// and with none (`application/octet-stream`), when the server finds the type itself.
    @Test func theFilesFamiliesSendAreRecognisedByWhatIsInside() async throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "hearth-samples-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try TestScript.run("make_samples.py", [folder.path])
        let sample: @Sendable (String) throws -> Data = { try Data(contentsOf: folder.appending(path: $0)) }
        let kinds: [(String, String)] = [
            ("list.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            ("money.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("holiday.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
            ("letter.odt", "application/vnd.oasis.opendocument.text"),
            ("chores.ods", "application/vnd.oasis.opendocument.spreadsheet"),
            ("sports.odp", "application/vnd.oasis.opendocument.presentation"),
            ("scores.csv", "text/csv"), ("prices.csv", "text/csv"), ("notes.txt", "text/plain"),
            ("drawing.pdf", "application/pdf"),
            ("garden.heic", "image/heic"), ("clip.mp4", "video/mp4"), ("clip.mov", "video/quicktime"),
            ("voice.webm", "audio/webm"), ("voice.ogg", "audio/ogg"), ("voice.m4a", "audio/mp4"),
        ]
        try await withLiveApp { family in
            let token = try await family.signIn("mum")
            for (name, type) in kinds {
                let data = try sample(name)
                for sent in [type, "application/octet-stream"] {
                    let result = try await family.upload(data, type: sent, token: token, name: name)
                    #expect(result.status == 201, "\(name) as \(sent): \(result.json)")
                    let attachment = result.json["attachment"] as? [String: Any]
                    #expect(attachment?["contentType"] as? String == type, "\(name) as \(sent)")
                    #expect(attachment?["size"] as? Int == data.count)
                }
            }
            // Claims the bytes do not bear out, and kinds the server does not take, in words.
            let docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            let refused: [(String, String, String, String)] = [
                (
                    "list.docx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "type_mismatch",
                    "This file says it is an Excel spreadsheet, but what is inside is something else"
                ),
                ("photos.zip", docx, "type_mismatch", "This file says it is a Word document"),
                ("letter.odt", docx, "type_mismatch", "This file says it is a Word document"),
                ("program", "audio/webm", "type_mismatch", "This file says it is a WebM sound file"),
                ("garden.heic", "video/mp4", "type_mismatch", "This file says it is an MP4 video"),
                ("photos.zip", "application/octet-stream", "unsupported_type", "ZIP archives can't be shared here."),
                ("program", "application/octet-stream", "unsupported_type", "Programs can't be shared here."),
                ("program", "application/x-msdownload", "unsupported_type", "Windows programs can't be shared here."),
            ]
            for (name, type, code, words) in refused {
                let result = try await family.upload(try sample(name), type: type, token: token, name: name)
                let error = result.json["error"] as? [String: Any]
                #expect(result.status == 415 && error?["code"] as? String == code, "\(name) as \(type)")
                #expect((error?["message"] as? String)?.hasPrefix(words) == true, "\(String(describing: error))")
            }
        }
        // A server that does not take Word documents says so in those words, whether the browser
        // named the type or the server found it.
        try await withLiveApp({ configuration in
            configuration.limits.attachmentTypes.remove(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        }) { family in
            let token = try await family.signIn("mum")
            for type in ["application/vnd.openxmlformats-officedocument.wordprocessingml.document", ""] {
                let result = try await family.upload(
                    try sample("list.docx"), type: type, token: token, name: "list.docx")
                let error = result.json["error"] as? [String: Any]
                #expect(result.status == 415 && error?["code"] as? String == "unsupported_type")
                #expect(error?["message"] as? String == "Word documents can't be shared here.")
            }
            // A refused upload's row goes as the request ends (give it up to 5 s).
            var rows = -1
            for _ in 0..<100 {
                rows = try await family.env.services.database.read { try $0.attachmentCount(ownerID: 1) }
                if rows == 0 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(rows == 0)
        }
    }

    /// A voice note carries how long it lasts (`?duration=MS`, as the browser recorded it): kept
    /// with the file and in the message; a bad duration, or one for a file that is not a sound
    /// or a video, is refused and stores nothing.
    @Test func aVoiceNoteCarriesItsDuration() async throws {
        try await withLiveApp { family in
            let mum = try await family.signIn("mum")
            let dad = try await family.signIn("dad")
            let room = try await family.directRoom("mum", "dad")
            var ogg = Data("OggS".utf8)
            ogg.append(Data(repeating: 7, count: 3_000))
            let uploaded = try await family.upload(
                ogg, type: "audio/ogg; codecs=opus", token: mum, name: "voice-note.ogg&duration=2300")
            let attachment = try #require(uploaded.json["attachment"] as? [String: Any], "\(uploaded.json)")
            #expect(attachment["durationMs"] as? Int == 2300 && attachment["contentType"] as? String == "audio/ogg")
            let socket = try await family.socket(dad)
            let mumSocket = try await family.socket(mum)
            try await mumSocket.send([
                "type": "send", "id": "v1", "room": room, "body": "", "attachments": [attachment["id"] ?? ""],
            ])
            let message = try await socket.next("message")
            let files = try #require(message["attachments"] as? [[String: Any]])
            #expect(files.first?["durationMs"] as? Int == 2300)
            for (query, type) in [
                ("x.ogg&duration=abc", "audio/ogg"), ("x.ogg&duration=0", "audio/ogg"),
                ("x.ogg&duration=86400001", "audio/ogg"), ("x.txt&duration=1000", "text/plain"),
            ] {
                let data = type == "audio/ogg" ? ogg : Data("words\n".utf8)
                let refused = try await family.upload(data, type: type, token: mum, name: query)
                #expect(refused.status == 400 && Family.errorCode(refused.json) == "invalid_field", "\(query)")
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await family.env.services.database.read { try $0.attachmentCount(ownerID: 1) } == 1)
            await socket.close()
            await mumSocket.close()
        }
    }

    @Test func anAbortedUploadLeavesNothing() async throws {
        try await withLiveApp { family in
            let token = try await family.signIn("mum")
            let fd = try rawConnection(port: family.port)
            let head =
                "POST /api/v1/attachments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: text/plain\r\nContent-Length: 2000000\r\n\r\n"
            _ = head.withCString { send(fd, $0, strlen($0), 0) }
            let part = [UInt8](repeating: 65, count: 700_000)
            _ = part.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            try await Task.sleep(for: .milliseconds(300))
            close(fd)
            // The server notices the aborted body and removes what it had stored (give it up to 30 s).
            var left = (rows: -1, bytes: Int64(-1))
            for _ in 0..<600 {
                left = try await family.env.services.database.read { store in
                    (try store.attachmentCount(ownerID: 1), try store.attachmentBytes(ownerID: 1))
                }
                if left.rows == 0 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(left.rows == 0 && left.bytes == 0)
        }
    }

    @Test func aBodyLongerThanItsContentLengthStoresOnlyTheDeclaredBytes() async throws {
        try await withLiveApp { family in
            let token = try await family.signIn("mum")
            let fd = try rawConnection(port: family.port)
            defer { close(fd) }
            let request =
                "POST /api/v1/attachments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
                + "Content-Type: text/plain\r\nContent-Length: 10\r\n\r\n0123456789EXTRA BYTES THAT ARE NOT PART OF IT"
            let response = try await onOwnThread {
                _ = request.withCString { send(fd, $0, strlen($0), 0) }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = recv(fd, &buffer, buffer.count, 0)
                return String(decoding: buffer.prefix(max(0, count)), as: UTF8.self)
            }
            #expect(response.hasPrefix("HTTP/1.1 201"))
            #expect(response.contains("\"size\":10"))
            #expect(try await family.env.services.database.read { try $0.attachmentBytes(ownerID: 1) } == 10)
        }
    }

    @Test func unsharedUploadsAreRemovedAfterTheGracePeriod() async throws {
        try await withLiveApp { family in
            let token = try await family.signIn("mum")
            let id = try #require(
                (try await family.upload(Self.png, type: "image/png", token: token).json["attachment"]
                    as? [String: Any])?["id"] as? String)
            #expect(try await family.env.services.attachments.removeOrphans() == 0)
            family.env.clock.advance(25 * 3600)
            #expect(try await family.env.services.attachments.removeOrphans() == 1)
            #expect(try await download(family, id, token: token).status == 404)
        }
    }
}
