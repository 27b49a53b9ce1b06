/// What one suite did and found: the row it adds to `Scripts/soak`'s table.
public struct SuiteReport: Sendable {
    public var suite: String
    public var sent = 0
    public var acknowledged = 0
    public var lost = 0
    public var duplicated = 0
    public var crashes = 0
    public var badInputs = 0
    /// nil when the suite has no read models to compare.
    public var rebuildEqual: Bool?
    /// Broken promises other than lost or duplicated commands.
    public var failures: [String] = []
    /// Figures worth printing under the table (latencies, memory, conflict rate).
    public var notes: [String] = []
    public var seconds = 0.0
    /// Lost commands were a promise the suite's setting does not make (durability `local` under a
    /// failover): shown in the table, not a failure.
    public var lossExpected = false

    public init(suite: String) {
        self.suite = suite
    }

    public var passed: Bool { (lost == 0 || lossExpected) && duplicated == 0 && rebuildEqual != false && failures.isEmpty }

    /// Takes in an audit's findings.
    mutating func add(_ findings: StoreAudit.Findings) {
        lost += findings.lost
        duplicated += findings.duplicated
        if findings.unexpected > 0 { failures.append("\(findings.unexpected) events of commands that were refused or never sent") }
        if !findings.broken.isEmpty { failures.append("\(findings.broken.count) orders with gaps or a stream unlike the log, e.g. \(findings.broken[0])") }
    }

    public static func table(_ reports: [SuiteReport]) -> String {
        let header = ["suite", "sent", "acknowledged", "lost", "duplicated", "crashes survived", "bad inputs", "rebuild equal", "seconds", "result"]
        var rows = [header]
        for report in reports {
            rows.append([report.suite, "\(report.sent)", "\(report.acknowledged)", "\(report.lost)", "\(report.duplicated)",
                         "\(report.crashes)", "\(report.badInputs)", report.rebuildEqual.map { $0 ? "yes" : "NO" } ?? "-",
                         String(format: "%.0f", report.seconds), report.passed ? "pass" : "FAIL"])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var lines = rows.map { row in
            row.enumerated().map { column, cell in
                column == 0 ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
                            : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }
        lines.insert(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "), at: 1)
        for report in reports {
            for note in report.notes { lines.append("\(report.suite): \(note)") }
            for failure in report.failures { lines.append("\(report.suite): FAILED: \(failure)") }
        }
        return lines.joined(separator: "\n")
    }
}

/// One of the reliability suites: runs against the environment and reports what it found.
public protocol SoakSuite: Sendable {
    func run(_ environment: SoakEnvironment) async throws -> SuiteReport
}

extension CrashSuite: SoakSuite {}
extension FailoverSuite: SoakSuite {}
extension OutageSuite: SoakSuite {}
extension InstancesSuite: SoakSuite {}
extension ContentionSuite: SoakSuite {}
extension HostileInputSuite: SoakSuite {}
extension RebuildUnderQueriesSuite: SoakSuite {}
extension ReshardSuite: SoakSuite {}

/// A suite that cannot go on: its message goes into the report.
struct SoakFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
