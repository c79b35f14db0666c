import Storage

/// The result of a successful register, login, setup or link: a new device and its session token.
public struct SignedIn: Sendable {
    public let user: User
    public let device: Device
    /// The session token: shown once, stored only as its SHA-256.
    public let token: String
}

/// An authenticated request's user and device.
public struct Session: Sendable, Equatable {
    public let user: User
    public let device: Device

    public init(user: User, device: Device) {
        self.user = user
        self.device = device
    }
}
