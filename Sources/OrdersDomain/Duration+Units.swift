extension Duration {
    /// Whole milliseconds, for logs and Redis arguments (PX, BLOCK, IDLE).
    public var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }

    /// Seconds with their fraction, for rates and reports.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
