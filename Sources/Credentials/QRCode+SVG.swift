extension QRCode {
    /// The symbol as a standalone SVG document: one path of dark runs on a white square.
    public func svg() -> String {
        var path = ""
        let full = fullSize
        for y in 0..<full {
            var x = 0
            while x < full {
                guard isDark(x: x, y: y) else {
                    x += 1
                    continue
                }
                let start = x
                while x < full && isDark(x: x, y: y) { x += 1 }
                path += "M\(start) \(y)h\(x - start)v1h-\(x - start)z"
            }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(full) \(full)" \
            width="\(full * 8)" height="\(full * 8)" shape-rendering="crispEdges">\
            <rect width="\(full)" height="\(full)" fill="#fff"/><path fill="#000" d="\(path)"/></svg>

            """
    }
}
