import CLibPQ
import Foundation

/// A parameter value sent in PostgreSQL's binary format, for the large ones of a hot path: no
/// escaping on our side and no unescaping on the server's.
public protocol PostgresBinaryBindable: PostgresBindable {
    /// The OID of the value's type, sent with it so that the server reads the bytes as that type.
    var postgresTypeOID: UInt32 { get }
    /// The value as the type's binary receive function reads it.
    var postgresBinary: [UInt8] { get }
}

/// A statement's parameters as libpq takes them: one buffer each (nil for NULL), freed with this
/// object; with their lengths, formats and types when one of them travels in binary.
final class PostgresParameters {
    private var buffers: [UnsafeMutablePointer<CChar>?] = []
    private var lengths: [Int32] = []
    private var formats: [Int32] = []
    private var types: [Oid] = []
    private var hasBinary = false

    /// Copies each value once, refusing a text value that holds a NUL byte: libpq would send
    /// "abc" for "abc\0def" without a word. Nothing is left allocated when it throws.
    init(_ parameters: [(any PostgresBindable)?]) throws(PostgresError) {
        buffers.reserveCapacity(parameters.count)
        lengths.reserveCapacity(parameters.count)
        for (index, parameter) in parameters.enumerated() {
            guard let parameter else {
                append(nil, length: 0, format: 0, type: 0)
                continue
            }
            if let binary = parameter as? any PostgresBinaryBindable {
                let bytes = binary.postgresBinary
                hasBinary = true
                let copy = bytes.withUnsafeBufferPointer { bytes in
                    Result { () throws(PostgresError) in try Self.copy(bytes, index: index, terminated: false) }
                }
                append(try copy.get(), length: Int32(bytes.count), format: 1, type: binary.postgresTypeOID)
                continue
            }
            // Copied once, the NUL check done with memchr over the same bytes: a routing batch's
            // parameters are half a megabyte, and a byte-by-byte check then strdup was a
            // twentieth of the worker's CPU.
            var value = parameter.postgresText
            let copy: Result<UnsafeMutablePointer<CChar>, PostgresError> = value.withUTF8 { bytes in
                if let base = bytes.baseAddress, memchr(base, 0, bytes.count) != nil {
                    return .failure(PostgresError(code: .invalidParameter,
                                                  message: "parameter $\(index + 1) holds a NUL byte, which PostgreSQL text cannot store; nothing was sent"))
                }
                return Result { () throws(PostgresError) in try Self.copy(bytes, index: index, terminated: true) }
            }
            append(try copy.get(), length: Int32(value.utf8.count), format: 0, type: 0)
        }
    }

    deinit { buffers.forEach { free($0) } }

    private func append(_ buffer: UnsafeMutablePointer<CChar>?, length: Int32, format: Int32, type: Oid) {
        buffers.append(buffer)
        lengths.append(length)
        formats.append(format)
        types.append(type)
    }

    /// A malloc'ed copy of `bytes` (NUL-terminated for text), freed with `free` by `deinit`.
    private static func copy(_ bytes: UnsafeBufferPointer<UInt8>, index: Int,
                             terminated: Bool) throws(PostgresError) -> UnsafeMutablePointer<CChar> {
        guard let raw = malloc(bytes.count + 1) else {
            throw PostgresError(code: .invalidParameter,
                                message: "no memory for a copy of parameter $\(index + 1) (\(bytes.count) bytes); nothing was sent")
        }
        if let base = bytes.baseAddress { raw.copyMemory(from: base, byteCount: bytes.count) }
        let buffer = raw.bindMemory(to: CChar.self, capacity: bytes.count + 1)
        if terminated { buffer[bytes.count] = 0 }
        return buffer
    }

    /// Calls `body` with libpq's arguments: the count, the types, the values, their lengths and
    /// formats (nil, nil and nil when every value is text, as libpq then expects).
    func withArguments<T>(_ body: (Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?,
                                   UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> T) -> T {
        let values: [UnsafePointer<CChar>?] = buffers.map { $0.map { UnsafePointer($0) } }
        return values.withUnsafeBufferPointer { values in
            guard hasBinary else { return body(Int32(values.count), nil, values.baseAddress, nil, nil) }
            return types.withUnsafeBufferPointer { types in
                lengths.withUnsafeBufferPointer { lengths in
                    formats.withUnsafeBufferPointer { formats in
                        body(Int32(values.count), types.baseAddress, values.baseAddress, lengths.baseAddress, formats.baseAddress)
                    }
                }
            }
        }
    }
}
