/// The points where a test may stop the read side's work the way a killed process stops it: at
/// that point, for good, running nothing after it (no catch, no cleanup, no further command).
/// The task simply never resumes, so production code has nothing to branch on; it passes `.none`
/// (every point returns at once) unless this package's own tests give it others.
public struct CrashPoints: Sendable {
    public enum Point: Sendable, Hashable {
        /// A projector's batch is read (its entries pending in the group) and not yet committed.
        case beforeCommit
        /// A replay is about to record that it entered this phase.
        case replayPhase(ReplayStatus.Phase)
    }

    /// Whether the work dies at this point (and whatever a test wants to note when it does).
    let dies: @Sendable (Point) async -> Bool

    public static let none = CrashPoints { _ in false }

    package init(dies: @escaping @Sendable (Point) async -> Bool) {
        self.dies = dies
    }

    func pass(_ point: Point) async {
        guard await dies(point) else { return }
        await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in } // never resumed
    }
}
