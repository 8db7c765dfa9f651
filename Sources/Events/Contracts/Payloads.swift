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

/// `request.accepted`: two users are now connected; chat records the connection.
public struct RequestAccepted: EventPayload {
    public static let type = "request.accepted"
    public static let version = 1
    public var requestId: String
    public var fromUserId: String
    public var toUserId: String

    public init(requestId: String, fromUserId: String, toUserId: String) {
        self.requestId = requestId
        self.fromUserId = fromUserId
        self.toUserId = toUserId
    }
}

/// `request.rejected`: an invite was turned down.
public struct RequestRejected: EventPayload {
    public static let type = "request.rejected"
    public static let version = 1
    public var requestId: String
    public var fromUserId: String
    public var toUserId: String

    public init(requestId: String, fromUserId: String, toUserId: String) {
        self.requestId = requestId
        self.fromUserId = fromUserId
        self.toUserId = toUserId
    }
}
