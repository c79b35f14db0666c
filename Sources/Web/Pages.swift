import Hummingbird

/// The few pages the server writes itself rather than serving from `Public/`.
enum Pages {
    /// A small HTML page for an error outside the API.
    static func error(_ error: APIError) -> Response {
        let html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8">\
            <meta name="viewport" content="width=device-width, initial-scale=1">\
            <title>\(error.status.code) · Hearth</title><link rel="icon" href="/favicon.svg" type="image/svg+xml">\
            <link rel="stylesheet" href="/style.css"></head>\
            <body><main class="card"><h1>\(escape(error.status.reasonPhrase))</h1><p>\(escape(error.message))</p>\
            <p><a href="/">Go to Hearth</a></p></main></body></html>

            """
        return Response(
            status: error.status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// Escapes text for HTML content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
