import Foundation

/// A source of bytes for the decryptor or encryptor: a file, a pipe, or memory.
public protocol AgeInput {
    /// Up to `count` bytes; empty at the end of the input.
    mutating func read(upTo count: Int) throws -> [UInt8]
    /// Up to `buffer.count` bytes into `buffer`; how many, 0 at the end of the input.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension AgeInput {
    /// Through ``read(upTo:)`` and a copy; an input that can read in place says so itself.
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let bytes = try read(upTo: buffer.count)
        buffer.copyBytes(from: bytes)
        return bytes.count
    }
}

/// Bytes in memory.
public struct BytesInput: AgeInput {
    let bytes: [UInt8]
    var offset = 0

    public init(_ bytes: some Collection<UInt8>) {
        self.bytes = Array(bytes)
    }

    public mutating func read(upTo count: Int) throws -> [UInt8] {
        let end = min(bytes.count, offset + count)
        defer { offset = end }
        return Array(bytes[offset..<end])
    }
}

/// A file handle (a file, standard input, a pipe).
public struct FileInput: AgeInput {
    let handle: FileHandle

    public init(_ handle: FileHandle) {
        self.handle = handle
    }

    public mutating func read(upTo count: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { bytes, initialized in
            initialized = try read(into: UnsafeMutableRawBufferPointer(bytes))
        }
    }

    /// Straight from the descriptor into `buffer`, with no copy on the way.
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            let count = Foundation.read(handle.fileDescriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            guard errno == EINTR else { throw AgeError.io("cannot read: \(String(cString: strerror(errno)))") }
        }
    }
}

/// Buffered reading on top of an ``AgeInput``: lines, exact counts, and a look at what is left.
struct BufferedReader<Input: AgeInput> {
    var input: Input
    private var buffer: [UInt8] = []
    private var position = 0
    private var ended = false
    /// Bytes handed out while `recording` (the header, for its MAC).
    var recorded: [UInt8] = []
    var recording = false

    init(_ input: Input) {
        self.input = input
    }

    private mutating func fill(_ wanted: Int) throws {
        while buffer.count - position < wanted && !ended {
            if position > 0 && position >= buffer.count / 2 {
                buffer.removeFirst(position)
                position = 0
            }
            let chunk = try input.read(upTo: max(wanted - (buffer.count - position), 64 * 1024))
            if chunk.isEmpty { ended = true } else { buffer += chunk }
        }
    }

    /// A line without its `\n`; nil when the input ends first or the line is longer than `limit`.
    mutating func readLine(limit: Int) throws -> [UInt8]? {
        var length = 0
        while true {
            try fill(length + 1)
            guard position + length < buffer.count else { return nil }
            if buffer[position + length] == UInt8(ascii: "\n") { break }
            length += 1
            if length > limit { return nil }
        }
        let line = Array(buffer[position..<(position + length)])
        if recording { recorded += buffer[position...(position + length)] }
        position += length + 1
        return line
    }

    /// Up to `count` bytes (fewer only at the end of the input).
    mutating func read(upTo count: Int) throws -> [UInt8] {
        try fill(count)
        let end = min(buffer.count, position + count)
        let bytes = Array(buffer[position..<end])
        if recording { recorded += bytes }
        position = end
        return bytes
    }

    /// Fills `buffer` (fewer bytes only at the end of the input): what is buffered first, the
    /// rest straight from the input. Returns how many bytes.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let buffered = min(buffer.count, self.buffer.count - position)
        if buffered > 0 {
            self.buffer.withUnsafeBytes { bytes in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + buffered)]))
            }
            if recording { recorded += self.buffer[position..<(position + buffered)] }
            position += buffered
        }
        var filled = buffered
        while filled < buffer.count && !ended {
            let read = try input.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if read == 0 { ended = true } else { filled += read }
        }
        if recording && filled > buffered { recorded += buffer[buffered..<filled] }
        return filled
    }

    /// Whether the input has nothing more.
    mutating func atEnd() throws -> Bool {
        try fill(1)
        return position >= buffer.count
    }

    /// The next `count` bytes without consuming them (fewer at the end).
    mutating func peek(_ count: Int) throws -> [UInt8] {
        try fill(count)
        return Array(buffer[position..<min(buffer.count, position + count)])
    }
}
