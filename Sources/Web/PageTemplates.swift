import Foundation
import Hummingbird
import Mustache

/// The server's own pages as Mustache templates (`Templates/`, embedded at build time), parsed
/// once: the admin panel, and the error page for requests outside the API.
///
/// `{{value}}` escapes HTML, and the templates never use the unescaped forms, so every value
/// the pages show is escaped.
struct PageTemplates: Sendable {
    let library: MustacheLibrary

    /// Parses every embedded template; a template that does not parse is a build mistake the tests catch.
    init(embedded: [String: String] = EmbeddedTemplates.files) {
        var library = MustacheLibrary()
        for (path, base64) in embedded where path.hasSuffix(".mustache") {
            guard let data = Data(base64Encoded: base64) else { continue }
            try? library.register(
                String(decoding: data, as: UTF8.self), named: String(path.dropLast(".mustache".count)))
        }
        self.library = library
    }

    /// The page `name` rendered with `context`, as an HTML response that no cache keeps.
    func page(_ name: String, _ context: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let html = library.render(context, withTemplate: name) ?? "<!doctype html><p>Missing page \(name).</p>"
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
