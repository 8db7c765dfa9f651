import BSON
import Foundation
import Logging
import Mongo
import ServiceKit
import ServiceLifecycle
import Synchronization

/// Each chat's newest message, written to the chat after the message instead of with it:
/// a send costs one write (the message), and the chat's `lastMessage` and `updatedAt` (the
/// order of a chat list) follow within `interval` — one write per chat however many
/// messages it had meanwhile. The chat list shows the newest at once, on every replica: it
/// reads the last seconds' messages of the chats it lists (`overlay`).
/// A write never puts an older message over a newer one, whichever process or flush comes
/// first. Flushed on graceful shutdown; a crash can only leave a chat's preview behind
/// until its next message.
public final class RecentActivity: Service, Sendable {
    private let chats: MongoCollection<Chat>
    private let pending = Mutex<[ObjectId: LastMessage]>([:])
    let interval: Duration
    private let logger: Logger
    private let warn: ThrottledWarning

    public init(chats: MongoCollection<Chat>, interval: Duration = .milliseconds(200), logger: Logger) {
        self.chats = chats
        self.interval = interval
        self.logger = logger
        warn = ThrottledWarning(logger: logger)
    }

    /// The message's order: by time, then id (as the message list orders them).
    static func isNewer(_ a: LastMessage, than b: LastMessage?) -> Bool {
        guard let b else { return true }
        return (a.createdAt, a.messageId) > (b.createdAt, b.messageId)
    }

    public func record(chatId: ObjectId, _ last: LastMessage) {
        pending.withLock { pending in
            if Self.isNewer(last, than: pending[chatId]) { pending[chatId] = last }
        }
    }

    /// A message was edited: a preview of it not written yet takes its new text.
    public func edited(chatId: ObjectId, _ last: LastMessage) {
        pending.withLock { pending in
            if pending[chatId]?.messageId == last.messageId { pending[chatId] = last }
        }
    }

    /// A message was deleted: a preview of it not written yet is dropped.
    public func deleted(chatId: ObjectId, messageId: String) {
        pending.withLock { pending in
            if pending[chatId]?.messageId == messageId { pending[chatId] = nil }
        }
    }

    /// The chat with the newest of its stored last message, this process's one not written
    /// yet, and `seen` (one read from the messages themselves).
    public func overlay(_ chat: Chat, seen: LastMessage? = nil) -> Chat {
        var chat = chat
        for candidate in [pending.withLock({ $0[chat._id] }), seen] {
            guard let candidate, Self.isNewer(candidate, than: chat.lastMessage) else { continue }
            chat.lastMessage = candidate
            chat.updatedAt = Swift.max(chat.updatedAt, candidate.createdAt)
        }
        return chat
    }

    /// How far back a read looks among the messages for ones not written to their chat yet
    /// (by any replica): many flush intervals, and clocks a few seconds apart.
    static let readWindow: TimeInterval = 10

    /// Writes every chat's newest message; what fails stays for the next round.
    public func flush() async {
        let batch = pending.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        for (chatId, last) in batch {
            do {
                _ = try await chats.updateOne(.eq("_id", chatId) && Self.olderThan(last),
                                              Update.set("lastMessage", try BSONEncoder().encode(last)).max("updatedAt", last.createdAt))
            } catch {
                warn("a chat's last message not written yet, retrying: \(error)")
                record(chatId: chatId, last)
            }
        }
    }

    /// Chats whose last message is older than `last`, or that have none.
    static func olderThan(_ last: LastMessage) -> Filter {
        .exists("lastMessage", false) || .eq("lastMessage", BSONValue.null) || .lt("lastMessage.createdAt", last.createdAt)
            || (.eq("lastMessage.createdAt", last.createdAt) && .lt("lastMessage.messageId", last.messageId))
    }

    /// Flushes every `interval` until graceful shutdown, then once more.
    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            // The wait ends early on shutdown, without waking every few milliseconds to ask.
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
            await flush()
        }
        await flush()
    }
}
