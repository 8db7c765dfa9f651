import BSON
@testable import Chat
import Foundation
import SocketIO
import Testing

/// The socket events' message value, built directly, is what Foundation's encoder made of
/// it: the same keys in the same order, the same dates (REST answers still come from the
/// encoder, so a client comparing the two sees no difference).
@Suite struct MessageJSONTests {
    static func message(at date: Date, file: FileRef?, text: String = "hi \"there\" \\ ✓ \u{1}", editedAt: Date? = nil) -> MessageView {
        MessageView(Message(_id: ObjectId(), chatId: ObjectId().hex, senderId: ObjectId().hex, text: text, file: file,
                            readBy: [ObjectId().hex, ObjectId().hex], createdAt: date, editedAt: editedAt))
    }

    @Test func isWhatTheEncoderMakes() throws {
        let file = FileRef(fileId: ObjectId().hex, name: "plan \"b\".pdf", contentType: "application/pdf", mimeType: nil, size: 12_345)
        var generator = SystemRandomNumberGenerator()
        // Whole and fractional seconds, both sides of midnight and of leap days, 1970 to 2200.
        var dates = [0, 1, 59.999, 86_399.5, 86_400, 951_782_400, 951_868_799.9, 1_780_000_000.25, 7_258_118_400].map(Date.init(timeIntervalSince1970:))
        dates += (0..<2000).map { _ in Date(timeIntervalSince1970: Double.random(in: 0..<7_258_118_400, using: &generator)) }
        for date in dates {
            for view in [Self.message(at: date, file: nil), Self.message(at: date, file: file),
                         Self.message(at: date, file: file, editedAt: date.addingTimeInterval(61.5))] {
                let expected = try JSONValue(encoding: view)
                #expect(view.json == expected, "\(date.timeIntervalSince1970)")
                #expect(view.json.serialized() == expected.serialized())
            }
        }
    }

    /// What crosses to the other replicas comes back as it went; anything else is refused.
    @Test func roomEventsCrossAsTheyWent() throws {
        let view = Self.message(at: Date(), file: nil)
        for event in [RoomEvent.message(chatId: view.chatId, payload: view.json, offset: MessageOffset(view).text), .left(chatId: view.chatId, userId: view.senderId),
                      .edited(chatId: view.chatId, payload: view.json), .deleted(chatId: view.chatId, messageId: view.id)] {
            #expect(RoomEvent(json: try JSONValue.parse(event.json.serialized())) == event)
        }
        for text in [#"{}"#, #"{"type":"message","chatId":"c"}"#, #"{"type":"message","chatId":"c","payload":"x"}"#, #"{"type":"message","chatId":"c","payload":{}}"#,
                     #"{"type":"left","chatId":"c"}"#, #"{"type":"joined","chatId":"c","userId":"u"}"#, #"[1]"#] {
            #expect(RoomEvent(json: try JSONValue.parse(text)) == nil, "\(text)")
        }
    }

    /// A message's offset reads back as it went, orders as the history does, and refuses anything else.
    @Test func offsetsReadBackAndOrderAsTheHistory() throws {
        let view = Self.message(at: Date(timeIntervalSince1970: 1_780_000_000.2567), file: nil)
        let offset = MessageOffset(view)
        #expect(offset.millis == 1_780_000_000_256 && offset.text == "1780000000256-\(view._id)")
        #expect(MessageOffset(offset.text) == offset)
        for bad in ["", "1780000000256", "-\(view._id)", "x-\(view._id)", "1780000000256-nothex", "99999999999999999999-\(view._id)"] {
            #expect(MessageOffset(bad) == nil, "\(bad)")
        }
    }
}
