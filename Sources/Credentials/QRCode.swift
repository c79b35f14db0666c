import CQRencode

/// A QR code symbol, encoded by libqrencode, ready to render as terminal text, SVG or PNG.
///
/// Error correction level M and a 4-module quiet zone: what a phone camera needs to read a URL
/// from a screen at arm's length.
public struct QRCode: Sendable {
    /// Modules per side, without the quiet zone.
    public let size: Int
    /// Row-major, `true` for a dark module.
    public let modules: [Bool]
    /// Light modules around the symbol when rendering.
    public let quietZone: Int

    /// Encodes `text` (8-bit mode, case-sensitive).
    public init(_ text: String, quietZone: Int = 4) throws {
        guard !text.isEmpty else { throw QRCodeError.empty }
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) else {
            throw QRCodeError.tooLong
        }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        let data = UnsafeBufferPointer(start: code.pointee.data, count: width * width)
        self.size = width
        self.modules = data.map { $0 & 1 == 1 }
        self.quietZone = quietZone
    }

    /// Creates a symbol from modules directly (used to read rendered output back in tests).
    public init(size: Int, modules: [Bool], quietZone: Int = 4) {
        self.size = size
        self.modules = modules
        self.quietZone = quietZone
    }

    /// Whether the module at (`x`, `y`) is dark; coordinates include the quiet zone, so anything
    /// outside the symbol is light.
    public func isDark(x: Int, y: Int) -> Bool {
        let (col, row) = (x - quietZone, y - quietZone)
        guard col >= 0, row >= 0, col < size, row < size else { return false }
        return modules[row * size + col]
    }

    /// Modules per side including the quiet zone on both sides.
    public var fullSize: Int { size + 2 * quietZone }
}

/// Why a QR code could not be made.
public enum QRCodeError: Error, Sendable {
    /// Nothing to encode.
    case empty
    /// The text does not fit in the largest symbol.
    case tooLong
}
