import Credentials
import Foundation
import Storage

/// Bot accounts: programs that use the same HTTP API and WebSocket as a person, with a token
/// instead of a password. A bot sees and posts only in the rooms it is added to, like anyone.
extension Accounts {
    /// A bot and its token (shown once).
    public struct BotToken: Sendable {
        public let user: User
        public let token: String
    }

    /// Creates a bot account `username` (shown as `displayName`, if given) and its token.
    public func createBot(
        username rawUsername: String, displayName: String?, by actor: AuditActor = .cli
    ) async throws -> BotToken {
        let username = try rules.username(rawUsername)
        let name = try Profiles.checkDisplayName(displayName, limit: rules.limits.displayNameMaxCharacters)
        let token = SecretToken.generate()
        let now = self.now
        let bot = try await run {
            try await database.write { store -> User in
                var bot = try Self.insertUser(
                    store, User(username: username, passwordHash: "!", role: .member, createdAt: now), by: actor,
                    how: actor == .cli ? "as a bot, from the command line" : "as a bot, in the admin panel")
                try store.setBot(userID: bot.id)
                try store.setProfile(userID: bot.id, displayName: name, avatar: nil)
                _ = try store.insertDevice(
                    userID: bot.id, name: "bot token", userAgent: nil, ip: nil, tokenHash: SecretToken.digest(token),
                    now: now)
                bot.bot = true
                bot.displayName = name
                return bot
            }
        }
        logger.info("bot created", metadata: ["user": "\(bot.username)"])
        return BotToken(user: bot, token: token)
    }

    /// A new token for the bot `username`; the old one stops working at once.
    public func newBotToken(username: String, by actor: AuditActor = .cli) async throws -> BotToken {
        let token = SecretToken.generate()
        let now = self.now
        let (bot, ended) = try await run {
            try await database.write { store -> (User, [Int64]) in
                guard let bot = try store.user(named: username), bot.bot,
                    !(try store.webhookBotIDs().contains(bot.id))
                else { throw ServiceError.notFound("Bot") }
                let ended = try store.revokeDevices(userID: bot.id, except: 0, now: now)
                _ = try store.insertDevice(
                    userID: bot.id, name: "bot token", userAgent: nil, ip: nil, tokenHash: SecretToken.digest(token),
                    now: now)
                try store.audit(actor, "bot_token_replaced", target: bot.username, detail: nil, now: now)
                return (bot, ended)
            }
        }
        for device in ended { live.sessionEnded(deviceID: device) }
        return BotToken(user: bot, token: token)
    }
}
