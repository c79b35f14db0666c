import ArgumentParser
import Foundation

/// `HearthBench`: load generator and benchmarks against a real `hearth serve` on 127.0.0.1.
@main
struct HearthBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "HearthBench",
        abstract: "Benchmarks for Hearth. Every scenario starts its own server on 127.0.0.1 and stops it.",
        discussion: "Run in release mode: swift run -c release HearthBench <scenario>",
        subcommands: [
            AuthScenario.self, IdleScenario.self, PMScenario.self, BackupScenario.self, AttachmentScenario.self,
            RulesScenario.self, AdminScenario.self, FanoutScenario.self, WriterScenario.self, LoginScenario.self,
            StormScenario.self, PushScenario.self, SearchScenario.self, WebhookScenario.self, OutgoingScenario.self,
            CallScenario.self, PeersScenario.self,
            EchoServer.self,
        ])
}
