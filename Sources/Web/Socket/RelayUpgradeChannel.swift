import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// Each connection's HTTP/1.1, with the upgrade to the relay's WebSocket.
///
/// The upgrade request goes through the router like any other request; when the WebSocket route
/// accepts it (it leaves an ``AcceptedUpgrade`` in the context), NIO answers `101` and
/// ``WebSocketEndpoint/install(_:on:)`` puts a ``RelaySocketHandler`` on the socket. From then on
/// the socket lives on its event loop and no task waits on an open socket: a task per socket, as
/// hummingbird-websocket's channel keeps two, costs about half the memory of an idle connection.
struct RelayUpgradeChannel<UpgradeResponder: HTTPResponder>: HTTPChannelHandler
where UpgradeResponder.Context == AppRequestContext {
    enum UpgradeResult: Sendable {
        case webSocket
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case failedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let upgradeResponder: UpgradeResponder
    let endpoint: WebSocketEndpoint
    let maxFrameBytes: Int
    let http1 = HTTP1Channel.Configuration()

    init(
        responder: @escaping HTTPChannelHandler.Responder, upgradeResponder: UpgradeResponder,
        endpoint: WebSocketEndpoint, maxFrameBytes: Int
    ) {
        self.responder = Self.redirectingUpgrades(responder)
        self.upgradeResponder = upgradeResponder
        self.endpoint = endpoint
        self.maxFrameBytes = maxFrameBytes
    }

    /// The connection's logger, tagged as Hummingbird tags a request's.
    static func withRequestID(_ logger: Logger) -> Logger {
        var logger = logger
        logger[metadataKey: "hb.request.id"] = .stringConvertible(RequestID())
        return logger
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let logger = Self.withRequestID(logger)
            let upgradeAttempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let accepted = NIOLoopBoundBox(AcceptedUpgrade?.none, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: maxFrameBytes,
                // NIO's own handler would hang up right after its close frame, with the refused
                // frame's bytes unread: the client then gets a TCP reset instead of 1009.
                // ``RelaySocketHandler`` answers the decoder's errors itself.
                enableAutomaticErrorHandling: false,
                shouldUpgrade: { channel, head in
                    upgradeAttempted.value = true
                    let promise = channel.eventLoop.makePromise(of: AcceptedUpgrade?.self)
                    promise.completeWithTask { await accept(head, channel: channel, logger: logger) }
                    return promise.futureResult.map { upgrade in
                        accepted.value = upgrade
                        return upgrade.map { _ in HTTPHeaders() }
                    }
                },
                upgradePipelineHandler: { channel, _ in
                    guard let upgrade = accepted.value else {
                        return channel.eventLoop.makeFailedFuture(ChannelError.inappropriateOperationForState)
                    }
                    return endpoint.install(upgrade, on: channel).map { .webSocket }
                })
            let http1 = http1
            let upgrades = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try pipeline.addHandlers(http1.additionalChannelHandlers())
                        try pipeline.addHandler(
                            HTTPConnectionStateHandler(idleTimeout: http1.idleTimeout.map { .init($0) }, logger: logger)
                        )
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true))
                        return upgradeAttempted.value ? .failedUpgrade(asyncChannel) : .notUpgraded(asyncChannel)
                    }
                })
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(
                upgradeConfiguration: upgrades)
            configuration.enablePipelining = false  // NIOAsyncChannel pipelines HTTP
            configuration.enableErrorHandling = false  // Hummingbird answers errors
            configuration.enableResponseHeaderValidation = false  // swift-http-types validates them
            configuration.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                configuration: configuration)
            return Value(upgradeResult: result, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .notUpgraded(let http1):
                await handleHTTP(asyncChannel: http1, logger: logger)
            case .failedUpgrade(let http1):
                await Self.refuseUpgrade(http1, logger: logger)
            case .webSocket:
                break  // The socket runs on its event loop now; nothing waits for it here.
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("upgrade abandoned: the client closed its side")
        } catch {
            logger.debug("upgrade failed", metadata: ["error": "\(error)"])
        }
    }

    /// Runs the upgrade request through the router; what the WebSocket route accepted, if it did.
    private func accept(_ head: HTTPRequestHead, channel: any Channel, logger: Logger) async -> AcceptedUpgrade? {
        guard let head = try? HTTPRequest(head, secure: false, splitCookie: false) else { return nil }
        let context = AppRequestContext(source: .init(channel: channel, logger: logger))
        guard
            let response = try? await upgradeResponder.respond(
                to: Request(head: head, body: .init(buffer: .init())), context: context),
            response.status == .ok
        else { return nil }
        return context.upgrade.accepted
    }

    /// Answers a refused upgrade with a bare `400` (``UpgradeRefusalHandler`` turns it into the
    /// real answer) and closes the connection.
    private static func refuseUpgrade(
        _ channel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger
    ) async {
        do {
            try await channel.executeThenClose { _, outbound in
                let head = HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])
                try await outbound.write(contentsOf: [.head(head), .end(nil)])
            }
        } catch {
            logger.trace("could not answer a refused upgrade", metadata: ["error": "\(error)"])
        }
    }

    /// NIO upgrades only a connection's first request. A later request asking for a WebSocket is
    /// sent to the same address on a new connection (`307`, `Connection: close`).
    private static func redirectingUpgrades(
        _ responder: @escaping HTTPChannelHandler.Responder
    )
        -> HTTPChannelHandler.Responder
    {
        return { request, writer, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                return try await responder(request, writer, channel)
            }
            let location = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            try await writer.writeResponse(
                HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: location]))
            throw UpgradeRedirected()
        }
    }
}

/// Ends a connection whose later request asked for a WebSocket, after its `307`.
private struct UpgradeRedirected: Error {}
