import CRabbitMQ
import Glibc

/// One rabbitmq-c connection with one channel. Not thread-safe: each publisher and
/// consumer owns one on its own thread, and it never leaves that thread.
final class AMQPConnection {
    private let state: amqp_connection_state_t
    static let channel: amqp_channel_t = 1

    // AMQP 0-9-1 method ids and basic property flags (rabbitmq-c defines them as casts, which Swift cannot import).
    static let basicAck: UInt32 = 0x003C_0050
    static let basicNack: UInt32 = 0x003C_0078
    static let channelClose: UInt32 = 0x0014_0028
    static let connectionClose: UInt32 = 0x000A_0032
    static let contentTypeFlag: UInt32 = 1 << 15
    static let headersFlag: UInt32 = 1 << 13
    static let deliveryModeFlag: UInt32 = 1 << 12
    static let correlationIdFlag: UInt32 = 1 << 10
    static let messageIdFlag: UInt32 = 1 << 7

    init(_ config: AMQPConfiguration) throws(AMQPError) {
        guard let state = amqp_new_connection() else { throw .connection("out of memory") }
        // From here on, throwing runs deinit, which destroys the connection state.
        self.state = state
        guard let socket = amqp_tcp_socket_new(state) else { throw .connection("could not create a socket") }
        var timeout = timeval(tv_sec: config.connectTimeoutSeconds, tv_usec: 0)
        let rc = amqp_socket_open_noblock(socket, config.host, Int32(config.port), &timeout)
        guard rc == AMQP_STATUS_OK.rawValue else {
            throw .connection("\(config.host):\(config.port): \(Self.statusText(rc))")
        }
        let login = sb_amqp_login_plain(state, config.virtualHost, 131_072, Int32(config.heartbeatSeconds), config.user, config.password)
        try check(login, "login")
        amqp_channel_open(state, Self.channel)
        try check(amqp_get_rpc_reply(state), "channel.open")
    }

    deinit { amqp_destroy_connection(state) }

    /// connection.close and its reply: only on a healthy connection, since it waits for the broker.
    func closeGracefully() {
        _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
    }

    var fileDescriptor: Int32 { amqp_get_sockfd(state) }

    /// Whether frames are already read into rabbitmq-c's buffers (poll would not see them).
    var hasBufferedInput: Bool { amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 }

    // MARK: topology

    func declare(_ topology: Topology) throws(AMQPError) {
        for exchange in topology.exchanges {
            let arena = Arena()
            amqp_exchange_declare(state, Self.channel, arena.bytes(exchange.name), arena.bytes(exchange.type), 0,
                                  exchange.durable ? 1 : 0, 0, 0, amqp_empty_table)
            try check(amqp_get_rpc_reply(state), "exchange.declare \(exchange.name)")
        }
        for queue in topology.queues {
            let arena = Arena()
            amqp_queue_declare(state, Self.channel, arena.bytes(queue.name), 0, queue.durable ? 1 : 0, 0,
                               queue.autoDelete ? 1 : 0, arena.table(queue.arguments))
            try check(amqp_get_rpc_reply(state), "queue.declare \(queue.name)")
        }
        for binding in topology.bindings {
            let arena = Arena()
            amqp_queue_bind(state, Self.channel, arena.bytes(binding.queue), arena.bytes(binding.exchange),
                            arena.bytes(binding.routingKey), amqp_empty_table)
            try check(amqp_get_rpc_reply(state), "queue.bind \(binding.queue)")
        }
    }

    /// Removes every message from a queue; returns how many there were.
    func purge(_ queue: String) throws(AMQPError) -> Int {
        let arena = Arena()
        let ok = amqp_queue_purge(state, Self.channel, arena.bytes(queue))
        try check(amqp_get_rpc_reply(state), "queue.purge \(queue)")
        return Int(ok?.pointee.message_count ?? 0)
    }

    func deleteQueue(_ queue: String) throws(AMQPError) {
        let arena = Arena()
        amqp_queue_delete(state, Self.channel, arena.bytes(queue), 0, 0)
        try check(amqp_get_rpc_reply(state), "queue.delete \(queue)")
    }

    func deleteExchange(_ exchange: String) throws(AMQPError) {
        let arena = Arena()
        amqp_exchange_delete(state, Self.channel, arena.bytes(exchange), 0)
        try check(amqp_get_rpc_reply(state), "exchange.delete \(exchange)")
    }

    /// Messages ready in a queue (a passive declare).
    func messageCount(_ queue: String) throws(AMQPError) -> Int {
        let arena = Arena()
        let ok = amqp_queue_declare(state, Self.channel, arena.bytes(queue), 1, 0, 0, 0, amqp_empty_table)
        try check(amqp_get_rpc_reply(state), "queue.declare passive \(queue)")
        return Int(ok?.pointee.message_count ?? 0)
    }

    // MARK: publishing

    func enableConfirms() throws(AMQPError) {
        amqp_confirm_select(state, Self.channel)
        try check(amqp_get_rpc_reply(state), "confirm.select")
    }

    /// Sends one message (no waiting: confirms arrive later as frames).
    func publish(_ message: AMQPMessage) throws(AMQPError) {
        let arena = Arena()
        var props = amqp_basic_properties_t()
        props._flags = Self.deliveryModeFlag
        props.delivery_mode = message.persistent ? 2 : 1
        if let contentType = message.contentType {
            props._flags |= Self.contentTypeFlag
            props.content_type = arena.bytes(contentType)
        }
        if let messageId = message.messageId {
            props._flags |= Self.messageIdFlag
            props.message_id = arena.bytes(messageId)
        }
        if let correlationId = message.correlationId {
            props._flags |= Self.correlationIdFlag
            props.correlation_id = arena.bytes(correlationId)
        }
        if !message.headers.isEmpty {
            props._flags |= Self.headersFlag
            props.headers = arena.table(message.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
        let rc = amqp_basic_publish(state, Self.channel, arena.bytes(message.exchange), arena.bytes(message.routingKey),
                                    0, 0, &props, arena.bytes(message.body))
        guard rc == AMQP_STATUS_OK.rawValue else { throw .connection("publish: \(Self.statusText(rc))") }
    }

    enum Confirm {
        case ack(tag: UInt64, multiple: Bool)
        case nack(tag: UInt64, multiple: Bool)
    }

    /// Reads the frames that are available now (or waits up to `timeout` for one) and returns the
    /// confirms among them. Also lets rabbitmq-c send and check heartbeats.
    func readConfirms(timeout: timeval = timeval(tv_sec: 0, tv_usec: 0)) throws(AMQPError) -> [Confirm] {
        var confirms = [Confirm]()
        var wait = timeout
        while true {
            var frame = amqp_frame_t()
            let rc = amqp_simple_wait_frame_noblock(state, &frame, &wait)
            if rc == AMQP_STATUS_TIMEOUT.rawValue { return confirms }
            guard rc == AMQP_STATUS_OK.rawValue else { throw .connection(Self.statusText(rc)) }
            wait = timeval(tv_sec: 0, tv_usec: 0)
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { continue }
            let method = frame.payload.method
            switch method.id {
            case Self.basicAck:
                let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
                confirms.append(.ack(tag: ack.delivery_tag, multiple: ack.multiple != 0))
            case Self.basicNack:
                let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
                confirms.append(.nack(tag: nack.delivery_tag, multiple: nack.multiple != 0))
            case Self.channelClose, Self.connectionClose:
                throw .connection("the broker closed the \(method.id == Self.channelClose ? "channel" : "connection")")
            default:
                continue
            }
        }
    }

    // MARK: consuming

    func consume(queue: String, prefetch: Int) throws(AMQPError) {
        amqp_basic_qos(state, Self.channel, 0, UInt16(clamping: prefetch), 0)
        try check(amqp_get_rpc_reply(state), "basic.qos")
        let arena = Arena()
        amqp_basic_consume(state, Self.channel, arena.bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table)
        try check(amqp_get_rpc_reply(state), "basic.consume \(queue)")
    }

    /// The next delivery if one is available now (or within `timeout`), else nil.
    func nextDelivery(timeout: timeval = timeval(tv_sec: 0, tv_usec: 0)) throws(AMQPError) -> AMQPDelivery? {
        amqp_maybe_release_buffers(state)
        var envelope = amqp_envelope_t()
        var wait = timeout
        let reply = amqp_consume_message(state, &envelope, &wait, 0)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            defer { amqp_destroy_envelope(&envelope) }
            let props = envelope.message.properties
            let flags = props._flags
            let message = AMQPMessage(
                exchange: envelope.exchange.string,
                routingKey: envelope.routing_key.string,
                body: envelope.message.body.array,
                messageId: flags & Self.messageIdFlag != 0 ? props.message_id.string : nil,
                correlationId: flags & Self.correlationIdFlag != 0 ? props.correlation_id.string : nil,
                contentType: flags & Self.contentTypeFlag != 0 ? props.content_type.string : nil,
                headers: flags & Self.headersFlag != 0 ? props.headers.headers : [:],
                persistent: flags & Self.deliveryModeFlag != 0 && props.delivery_mode == 2)
            return AMQPDelivery(message: message, redelivered: envelope.redelivered != 0, deliveryTag: envelope.delivery_tag)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_TIMEOUT.rawValue:
            return nil
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue:
            // A frame other than a delivery: a close (fatal), or something to skip.
            var frame = amqp_frame_t()
            let rc = amqp_simple_wait_frame_noblock(state, &frame, &wait)
            if rc == AMQP_STATUS_OK.rawValue, frame.frame_type == UInt8(AMQP_FRAME_METHOD),
               frame.payload.method.id == Self.channelClose || frame.payload.method.id == Self.connectionClose {
                throw .connection("the broker closed the channel")
            }
            if rc != AMQP_STATUS_OK.rawValue && rc != AMQP_STATUS_TIMEOUT.rawValue { throw .connection(Self.statusText(rc)) }
            return nil
        default:
            throw .connection(describe(reply))
        }
    }

    func settle(_ tag: UInt64, _ outcome: DeliveryOutcome) throws(AMQPError) {
        let rc: Int32
        switch outcome {
        case .ack: rc = amqp_basic_ack(state, Self.channel, tag, 0)
        case .reject(let requeue): rc = amqp_basic_nack(state, Self.channel, tag, 0, requeue ? 1 : 0)
        }
        guard rc == AMQP_STATUS_OK.rawValue else { throw .connection("ack: \(Self.statusText(rc))") }
    }

    // MARK: errors

    private func check(_ reply: amqp_rpc_reply_t, _ what: String) throws(AMQPError) {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL: return
        case AMQP_RESPONSE_SERVER_EXCEPTION: throw .refused("\(what): \(describe(reply))")
        default: throw .connection("\(what): \(describe(reply))")
        }
    }

    private func describe(_ reply: amqp_rpc_reply_t) -> String {
        switch reply.reply_type {
        case AMQP_RESPONSE_LIBRARY_EXCEPTION: return Self.statusText(reply.library_error)
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            switch reply.reply.id {
            case Self.connectionClose:
                let m = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return "connection closed by broker: \(m.reply_code) \(m.reply_text.string)"
            case Self.channelClose:
                let m = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                return "channel closed by broker: \(m.reply_code) \(m.reply_text.string)"
            default: return "broker error (method \(reply.reply.id))"
            }
        default: return "no reply"
        }
    }

    static func statusText(_ rc: Int32) -> String {
        guard let text = amqp_error_string2(rc) else { return "status \(rc)" }
        return String(cString: text)
    }
}
