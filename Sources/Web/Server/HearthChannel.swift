import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Services

/// Each connection's pipeline: the connection guard first (per-address limit, slow-client
/// deadlines), then TLS when configured, then HTTP/1.1 with the relay's WebSocket upgrade,
/// with the request deadlines and the upgrade refusal right after its HTTP decoder.
struct HearthChannel<Base: HTTPChannelHandler>: HTTPChannelHandler {
    typealias Value = Base.Value

    let base: Base
    let registry: ConnectionRegistry
    let limits: ServerConfiguration.ConnectionLimits
    let certificates: TLSCertificates?
    let originCheck: OriginCheckMiddleware
    let logger: Logger

    var responder: HTTPChannelHandler.Responder { base.responder }

    /// Read buffers start at 512 bytes (NIO's default is 2 KiB) and grow while reads fill them.
    /// An open WebSocket keeps its last read buffer, so at 10,000 idle sockets this is 1.5 KiB
    /// less per connection; uploads still grow to 64 KiB reads.
    static var readBuffers: AdaptiveRecvByteBufferAllocator {
        AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536)
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let address = channel.remoteAddress?.ipAddress ?? "unknown"
        guard registry.admit(address) else {
            self.logger.notice("connection refused: too many from one address", metadata: ["address": "\(address)"])
            return channel.close().flatMapThrowing { throw ConnectionLimitReached() }
        }
        let timer: NIOLoopBound<SlowClientTimer>
        do {
            try channel.syncOptions?.setOption(.recvAllocator, value: Self.readBuffers)
            let slowClients = SlowClientTimer(limits: limits, channel: channel)
            timer = NIOLoopBound(slowClients, eventLoop: channel.eventLoop)
            // From here on the guard gives the address's place back when the channel closes.
            try channel.pipeline.syncOperations.addHandler(
                ConnectionGuard(registry: registry, address: address, timer: slowClients))
        } catch {
            registry.release(address)
            return channel.eventLoop.makeFailedFuture(error)
        }
        if let certificates {
            do {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: certificates.context))
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let pipeline = channel.pipeline.syncOperations
            let decoder = try pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(UpgradeRefusalHandler(originCheck: originCheck), position: .after(decoder.handler))
            try pipeline.addHandler(RequestDeadlineHandler(timer: timer.value), position: .after(decoder.handler))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// A connection refused because its address holds ``ServerConfiguration/ConnectionLimits/perAddress`` already.
struct ConnectionLimitReached: Error {}
