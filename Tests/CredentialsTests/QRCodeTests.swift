import Foundation
import Testing

@testable import Credentials

/// QR codes are read back with the real `zbarimg`, as a phone camera would read them.
@Suite struct QRCodeTests {
    static let url = "http://192.168.1.23:8080/setup?token=Tv7z49V_qurFeykAZK2t7kitdkrCYjRCTESv_Snqwyo"

    @Test func pngScansBackToTheText() throws {
        let png = try QRCode(Self.url).png()
        #expect(try zbarimg(png) == Self.url)
        // Compressed: a few KB (stored without compression, the same image is over 100 KB).
        #expect(png.count < 8_192, "\(png.count) bytes")
    }

    @Test func terminalTextScansBackToTheText() throws {
        // Read the half blocks back into modules (a blank cell half is dark), draw them as a PNG, scan it.
        let code = try QRCode(Self.url)
        let lines = code.terminalText().split(separator: "\n").map(Array.init)
        let side = code.fullSize
        #expect(lines.count == (side + 1) / 2)
        var modules = [Bool](repeating: false, count: side * side)
        for (row, line) in lines.enumerated() {
            #expect(line.count == side)
            for (x, cell) in line.enumerated() {
                let (top, bottom): (Bool, Bool) =
                    switch cell {
                    case "█": (true, true)
                    case "▀": (true, false)
                    case "▄": (false, true)
                    default: (false, false)
                    }
                modules[2 * row * side + x] = !top
                if 2 * row + 1 < side { modules[(2 * row + 1) * side + x] = !bottom }
            }
        }
        let redrawn = QRCode(size: side, modules: modules, quietZone: 0)
        // The last half row of an odd-sized symbol is padding; the quiet zone is read back as light.
        #expect(try zbarimg(redrawn.png()) == Self.url)
    }

    @Test func ansiColorsWrapEveryLine() throws {
        let text = try QRCode("hello").terminalText(ansiColors: true)
        for line in text.split(separator: "\n") {
            #expect(line.hasPrefix("\u{1B}[97;40m") && line.hasSuffix("\u{1B}[0m"))
        }
    }

    @Test func svgIsAStandaloneDocumentWithTheSymbol() throws {
        let code = try QRCode(Self.url)
        let svg = code.svg()
        #expect(
            svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(code.fullSize) \(code.fullSize)\"")
        )
        #expect(svg.contains("<path fill=\"#000\" d=\"M"))
        #expect(svg.hasSuffix("</svg>\n"))
    }

    @Test func refusesEmptyAndOversizedText() {
        #expect(throws: QRCodeError.self) { try QRCode("") }
        #expect(throws: QRCodeError.self) { try QRCode(String(repeating: "x", count: 4000)) }
    }

    /// Runs `zbarimg` on a PNG and returns the decoded text.
    func zbarimg(_ png: [UInt8]) throws -> String {
        let file = FileManager.default.temporaryDirectory.appending(path: "hearth-qr-\(UUID().uuidString).png")
        try Data(png).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/zbarimg")
        process.arguments = ["--quiet", "--raw", file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "zbarimg found no code")
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .newlines)
    }
}
