import CompressNIO
import NIOCore

extension QRCode {
    /// The symbol as an 8-bit grayscale PNG with `scale` pixels per module, its image data
    /// compressed with zlib (a 360-pixel code is about 2 KB).
    public func png(scale: Int = 8) -> [UInt8] {
        let scale = max(1, scale)
        let side = fullSize * scale
        var raw: [UInt8] = []
        raw.reserveCapacity((side + 1) * side)
        for y in 0..<side {
            raw.append(0)  // filter type: none
            for x in 0..<side {
                raw.append(isDark(x: x / scale, y: y / scale) ? 0 : 255)
            }
        }
        var header: [UInt8] = []
        header += PNG.bigEndian(UInt32(side)) + PNG.bigEndian(UInt32(side))
        header += [8, 0, 0, 0, 0]  // 8-bit depth, grayscale, deflate, adaptive filters, no interlace
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + PNG.chunk("IHDR", header) + PNG.chunk("IDAT", PNG.zlib(raw)) + PNG.chunk("IEND", [])
    }
}

/// The few pieces of the PNG and zlib formats the QR renderer needs.
enum PNG {
    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typed + bigEndian(crc32(typed))
    }

    /// `data` as a zlib stream, compressed at the default level.
    static func zlib(_ data: [UInt8]) -> [UInt8] {
        var input = ByteBuffer(bytes: data)
        // Compressing a buffer in memory fails only without memory; then the stream is stored.
        guard let output = try? input.compress(with: .zlib()) else { return zlibStored(data) }
        return Array(output.readableBytesView)
    }

    /// A zlib stream holding `data` in stored (uncompressed) deflate blocks.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let count = min(65_535, data.count - offset)
            let final: UInt8 = offset + count == data.count ? 1 : 0
            out.append(final)
            out += [UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += data[offset..<offset + count]
            offset += count
        } while offset < data.count
        return out + bigEndian(adler32(data))
    }

    static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return (b << 16) | a
    }

    static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in data { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
