import CRabbitMQ
import Glibc

/// C memory for one call into rabbitmq-c: strings and tables built from Swift
/// values, all freed together when the arena goes.
final class Arena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { blocks.forEach { free($0) } }

    func bytes(_ string: String) -> amqp_bytes_t { bytes(Array(string.utf8)) }

    func bytes(_ data: [UInt8]) -> amqp_bytes_t {
        let p = malloc(max(data.count, 1))!
        blocks.append(p)
        data.withUnsafeBytes { if let base = $0.baseAddress { p.copyMemory(from: base, byteCount: data.count) } }
        return amqp_bytes_t(len: data.count, bytes: p)
    }

    func cString(_ string: String) -> UnsafePointer<CChar> {
        let p = strdup(string)!
        blocks.append(UnsafeMutableRawPointer(p))
        return UnsafePointer(p)
    }

    func table(_ entries: [(String, AMQPHeaderValue)]) -> amqp_table_t {
        guard !entries.isEmpty else { return amqp_empty_table }
        let raw = malloc(MemoryLayout<amqp_table_entry_t>.stride * entries.count)!
        blocks.append(raw)
        let array = raw.bindMemory(to: amqp_table_entry_t.self, capacity: entries.count)
        for (i, (key, value)) in entries.enumerated() {
            var entry = amqp_table_entry_t()
            entry.key = bytes(key)
            switch value {
            case .string(let s):
                entry.value.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
                entry.value.value.bytes = bytes(s)
            case .int(let n):
                entry.value.kind = UInt8(AMQP_FIELD_KIND_I64.rawValue)
                entry.value.value.i64 = n
            case .bool(let b):
                entry.value.kind = UInt8(AMQP_FIELD_KIND_BOOLEAN.rawValue)
                entry.value.value.boolean = b ? 1 : 0
            }
            (array + i).initialize(to: entry)
        }
        return amqp_table_t(num_entries: Int32(entries.count), entries: array)
    }
}

extension amqp_bytes_t {
    var array: [UInt8] {
        guard len > 0, let bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: len))
    }

    var string: String { String(decoding: array, as: UTF8.self) }
}

extension amqp_table_t {
    /// The entries Switchboard understands; other kinds (arrays, nested tables such as x-death) are skipped.
    var headers: [String: AMQPHeaderValue] {
        var out = [String: AMQPHeaderValue]()
        guard num_entries > 0, let entries else { return out }
        for i in 0..<Int(num_entries) {
            let entry = entries[i]
            let v = entry.value
            switch Int(v.kind) {
            case Int(AMQP_FIELD_KIND_UTF8.rawValue), Int(AMQP_FIELD_KIND_BYTES.rawValue): out[entry.key.string] = .string(v.value.bytes.string)
            case Int(AMQP_FIELD_KIND_I64.rawValue): out[entry.key.string] = .int(v.value.i64)
            case Int(AMQP_FIELD_KIND_I32.rawValue): out[entry.key.string] = .int(Int64(v.value.i32))
            case Int(AMQP_FIELD_KIND_U32.rawValue): out[entry.key.string] = .int(Int64(v.value.u32))
            case Int(AMQP_FIELD_KIND_I16.rawValue): out[entry.key.string] = .int(Int64(v.value.i16))
            case Int(AMQP_FIELD_KIND_BOOLEAN.rawValue): out[entry.key.string] = .bool(v.value.boolean != 0)
            default: break
            }
        }
        return out
    }
}
