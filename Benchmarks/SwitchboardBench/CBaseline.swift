import CHiredis
import CMongoc
import CRabbitMQ
import Foundation

// The same operations as the Swift clients, made directly on the C libraries:
// the baseline each Swift figure is divided by. Single-threaded and straight-line,
// as a hand-written C program would be.

enum CBaseline {
    /// Inserts `n` documents one at a time with mongoc_collection_insert_one.
    static func mongoInsert(uri: String, database: String, collection: String, n: Int, offset: Int) -> [ [UInt8] ] {
        mongoc_init()
        var error = bson_error_t()
        let client = mongoc_client_new(uri)!
        mongoc_client_set_error_api(client, 2)
        let coll = mongoc_client_get_collection(client, database, collection)!
        var ids = [[UInt8]]()
        for i in offset..<(offset + n) {
            let doc = bson_new()!
            var oid = bson_oid_t()
            bson_oid_init(&oid, nil)
            bson_append_oid(doc, "_id", 3, &oid)
            bson_append_utf8(doc, "email", 5, "user\(i)@example.com", -1)
            bson_append_utf8(doc, "name", 4, "User \(i)", -1)
            bson_append_int64(doc, "age", 3, Int64(i % 90))
            bson_append_date_time(doc, "createdAt", 9, 1_700_000_000_000)
            if !mongoc_collection_insert_one(coll, doc, nil, nil, &error) { fatalError("C insert failed") }
            bson_destroy(doc)
            ids.append(withUnsafeBytes(of: oid.bytes) { Array($0) })
        }
        mongoc_collection_destroy(coll)
        mongoc_client_destroy(client)
        return ids
    }

    /// Finds each id with find_with_opts {_id: {$eq: id}}, limit 1, and reads the document.
    static func mongoFind(uri: String, database: String, collection: String, ids: [[UInt8]]) -> Int {
        let client = mongoc_client_new(uri)!
        mongoc_client_set_error_api(client, 2)
        let coll = mongoc_client_get_collection(client, database, collection)!
        let opts = bson_new()!
        bson_append_int64(opts, "limit", 5, 1)
        var found = 0
        for id in ids {
            let filter = bson_new()!
            let cond = bson_new()!
            var oid = bson_oid_t()
            withUnsafeMutableBytes(of: &oid.bytes) { raw in for i in 0..<12 { raw[i] = id[i] } }
            bson_append_oid(cond, "$eq", 3, &oid)
            bson_append_document(filter, "_id", 3, cond)
            let cursor = mongoc_collection_find_with_opts(coll, filter, opts, nil)!
            var doc: OpaquePointer?
            while mongoc_cursor_next(cursor, &doc) { found += 1 }
            mongoc_cursor_destroy(cursor)
            bson_destroy(cond)
            bson_destroy(filter)
        }
        bson_destroy(opts)
        mongoc_collection_destroy(coll)
        mongoc_client_destroy(client)
        return found
    }

    /// `n` sequential GETs with redisCommandArgv.
    static func redisGets(port: Int, key: String, n: Int) -> Int {
        let c = redisConnect("127.0.0.1", Int32(port))!
        var hits = 0
        let args = ["GET", key]
        for _ in 0..<n {
            var argv: [UnsafePointer<CChar>?] = args.map { UnsafePointer(strdup($0)!) }
            let lengths = args.map { $0.utf8.count }
            let reply = redisCommandArgv(c, 2, &argv, lengths)
            argv.forEach { free(UnsafeMutableRawPointer(mutating: $0)) }
            if let reply {
                if reply.assumingMemoryBound(to: redisReply.self).pointee.type == REDIS_REPLY_STRING { hits += 1 }
                freeReplyObject(reply)
            }
        }
        redisFree(c)
        return hits
    }

    /// Publishes `n` persistent messages to `queue` with publisher confirms, at most
    /// `window` unconfirmed at a time (window 1 waits for each confirm).
    static func amqpConfirmedPublishes(port: Int, queue: String, n: Int, window: Int) -> Int {
        let conn = amqp_new_connection()!
        let socket = amqp_tcp_socket_new(conn)!
        guard amqp_socket_open(socket, "127.0.0.1", Int32(port)) == 0 else { fatalError("C AMQP connect failed") }
        _ = sb_amqp_login_plain(conn, "/", 131_072, 0, "guest", "guest")
        amqp_channel_open(conn, 1)
        amqp_confirm_select(conn, 1)
        _ = amqp_get_rpc_reply(conn)
        var props = amqp_basic_properties_t()
        props._flags = 1 << 12 | 1 << 15
        props.delivery_mode = 2
        let contentType = strdup("application/json")!
        props.content_type = amqp_cstring_bytes(contentType)
        let routing = strdup(queue)!
        let body = strdup("{\"type\":\"bench\",\"data\":{\"n\":12345}}")!
        var confirmed = [Bool](repeating: false, count: n + 1)
        var confirmedCount = 0
        var lowestUnconfirmed: UInt64 = 1
        var sent = 0
        while confirmedCount < n {
            while sent < n, sent - confirmedCount < window {
                amqp_basic_publish(conn, 1, amqp_empty_bytes, amqp_cstring_bytes(routing), 0, 0, &props, amqp_cstring_bytes(body))
                sent += 1
            }
            var frame = amqp_frame_t()
            guard amqp_simple_wait_frame(conn, &frame) == 0 else { fatalError("C AMQP wait failed") }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD), frame.payload.method.id == 0x003C_0050 else { continue }
            let ack = frame.payload.method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            let upTo = ack.delivery_tag
            let from = ack.multiple != 0 ? lowestUnconfirmed : ack.delivery_tag
            if from <= upTo {
                for tag in from...upTo where !confirmed[Int(tag)] {
                    confirmed[Int(tag)] = true
                    confirmedCount += 1
                }
            }
            while lowestUnconfirmed <= UInt64(n), confirmed[Int(lowestUnconfirmed)] { lowestUnconfirmed += 1 }
        }
        free(contentType)
        free(routing)
        free(body)
        _ = amqp_connection_close(conn, AMQP_REPLY_SUCCESS)
        amqp_destroy_connection(conn)
        return confirmedCount
    }
}
