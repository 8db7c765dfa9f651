/// `auth.user.created`: a user signed up. Profile and request build their own records from it.
public struct UserCreated: EventPayload {
    public static let type = "auth.user.created"
    public static let version = 1
    public var userId: String
    public var email: String
    public var firstName: String
    public var lastName: String

    public init(userId: String, email: String, firstName: String, lastName: String) {
        self.userId = userId
        self.email = email
        self.firstName = firstName
        self.lastName = lastName
    }
}

/// `auth.user.deleted`: a user deleted their account; every service forgets them.
public struct UserDeleted: EventPayload {
    public static let type = "auth.user.deleted"
    public static let version = 1
    public var userId: String

    public init(userId: String) { self.userId = userId }
}

/// How an invite was answered: the one difference between `request.accepted` and `request.rejected`.
public protocol InviteAnswer: Sendable {
    static var eventType: String { get }
}

public enum Accepted: InviteAnswer { public static let eventType = "request.accepted" }
public enum Rejected: InviteAnswer { public static let eventType = "request.rejected" }

/// An invite was answered. `request.accepted` connects the two users (chat records the
/// connection); `request.rejected` does not.
public struct InviteAnswered<Answer: InviteAnswer>: EventPayload {
    public static var type: String { Answer.eventType }
    public static var version: Int { 1 }
    public var requestId: String
    public var fromUserId: String
    public var toUserId: String

    public init(requestId: String, fromUserId: String, toUserId: String) {
        self.requestId = requestId
        self.fromUserId = fromUserId
        self.toUserId = toUserId
    }
}

public typealias RequestAccepted = InviteAnswered<Accepted>
public typealias RequestRejected = InviteAnswered<Rejected>
