/// What the server answers by itself, before any handler sees the request.
public enum LineRouterLimits {
    /// Sent when a request line exceeds the size limit, just before the connection closes.
    public static let tooLargeResponse = LineRouter.encode(
        id: RawJSON.null, error: APIError(.tooLarge, "the request line is longer than the server's limit; the connection will be closed"))
}

import Foundation
