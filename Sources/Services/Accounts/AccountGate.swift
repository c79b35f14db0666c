import Credentials

/// What registering and signing in share: the password hasher, the throttle on attempts, the
/// account rules, and the limits on devices. Built once by ``AppServices``.
struct AccountGate: Sendable {
    let hasher: PasswordHasher
    let throttle: Throttle
    let rules: AccountRules
    let policies: HearthConfiguration.ThrottlePolicies
    let devicesPerUser: Int

    init(hasher: PasswordHasher, throttle: Throttle, configuration: HearthConfiguration) {
        self.hasher = hasher
        self.throttle = throttle
        rules = AccountRules(limits: configuration.limits)
        policies = configuration.throttles
        devicesPerUser = configuration.limits.devicesPerUser
    }
}

/// A service that lets people in through the shared ``AccountGate``: its parts by their short names.
protocol GatedService: ContextualService {
    var gate: AccountGate { get }
}

extension GatedService {
    var hasher: PasswordHasher { gate.hasher }
    var throttle: Throttle { gate.throttle }
    var rules: AccountRules { gate.rules }
    var policies: HearthConfiguration.ThrottlePolicies { gate.policies }
    var devicesPerUser: Int { gate.devicesPerUser }
}
