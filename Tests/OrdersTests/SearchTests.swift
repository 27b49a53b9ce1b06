import Foundation
@testable import OrdersDomain
@testable import OrdersEventLog
@testable import OrdersWriteSide
@testable import OrdersReadSide
import RedisClient
import Testing
import TestSupport

@Suite(.enabled(if: TestRedis.shouldRun))
struct SearchTests {
    /// Search answers what a brute force over every record answers (every word a prefix of one of
    /// the order's terms; newest first, ties by order id), whether its words are read from the
    /// index (selective), checked on the candidates (some common), or walked newest first (all
    /// common): the three paths are forced with `searchIndexLimit`.
    /// With a word bound of 3 most words are common (their sets dropped), so the paths run on
    /// `common-words` instead of set sizes.
    @Test(arguments: [2_000, 3])
    func searchAgreesWithABruteForceOnEveryPath(commonWordBound: Int) async throws {
        let store = try await makeStore("search-\(commonWordBound)")
        let last = try await randomHistory(store, orders: 60, commands: 300, seed: 91)
        let projector = Projector(projection: OrderProjection(commonWordBound: commonWordBound), log: store.log,
                                  settings: quickSettings("search"))
        try await projector.createGroup()
        try await drain(projector, upTo: last)

        let keys = ViewKeys(keys: store.keys, projection: OrderProjection.name, generation: 1)
        let common = try await store.redis.send("SCARD", keys.commonWords).int ?? 0
        #expect(commonWordBound == 2_000 ? common == 0 : common > 5, "\(common) common words")
        let newestFirst = try await store.redis.send("ZRANGE", keys.byCreated, 0, -1, "WITHSCORES").array ?? []
        var ranked: [(id: String, created: Double)] = []
        for index in stride(from: 0, to: newestFirst.count, by: 2) {
            ranked.append((newestFirst[index].string!, Double(newestFirst[index + 1].string!)!))
        }
        ranked.sort { ($0.created, $0.id) > ($1.created, $1.id) }
        var views: [OrderView] = []
        for entry in ranked {
            views.append(try OrderProjection.decode(try #require(try await store.redis.send("HGET", keys.record(entry.id), "doc").bytes)))
        }
        #expect(views.count > 20, "the history left enough visible orders")

        func expected(_ query: String, _ limit: Int) -> [String] {
            let words = TextFolding.words(query)
            return views.filter { view in
                let terms = view.searchTerms.map { Array($0.utf8) }
                return words.allSatisfy { word in terms.contains { $0.starts(with: Array(word.utf8)) } }
            }.prefix(limit).map(\.orderId)
        }
        // Order ids' words too: a whole id, one of its inner groups, a group's beginning with a
        // customer's word, a hex prefix shared by many ids.
        let id = views[0].orderId
        let groups = id.split(separator: "-").map(String.init)
        let queries = ["ann", "blue", "blue ann", "mug tea", "sku", "example", "lee", "cy org", "lamp bob", "zzz", "a", "b 1",
                       id, groups[2], String(groups[3].prefix(2)) + " " + (views[0].customerName.split(separator: " ").first.map(String.init) ?? ""),
                       "4", "8"]
        for threshold in [100_000, 8, 0] {
            let handler = QueryHandler(log: store.log, searchIndexLimit: threshold)
            for query in queries {
                for limit in [3, 50] {
                    let found = try await handler.search(query, limit: limit).map(\.orderId)
                    #expect(found == expected(query, limit), "q '\(query)', limit \(limit), index limit \(threshold)")
                }
            }
        }
    }

    /// Word sets only grow (a deleted order stays in them) and stop at the bound: the common
    /// words, and every set, are a function of the log, so a rebuild reaches the same ones as
    /// the live model that got there event by event, deletions included.
    @Test func commonWordsAreTheSameLiveAndAfterARebuild() async throws {
        let store = try await makeStore("common-rebuild")
        let last = try await randomHistory(store, orders: 40, commands: 400, seed: 17)
        let projections: [any Projection] = [OrderProjection(commonWordBound: 4), SummaryProjection()]
        let live = Projector(projection: OrderProjection(commonWordBound: 4), log: store.log, settings: quickSettings("live"))
        try await live.createGroup()
        try await drain(live, upTo: last)
        let generations = LiveGenerations(log: store.log, projections: projections)
        try await generations.initialize()
        let before = try await dumpReadModel(store, live.view)
        #expect(before["common-words"] != nil && before.keys.contains { $0.hasPrefix("word:") })
        #expect(try await store.redis.send("XRANGE", store.keys.log, "-", "+").array?.contains {
            $0.array?[1].array?.contains { $0.string == OrderDeleted.type } == true
        } == true, "the history deletes orders")
        try await ReplayService(log: store.log, projections: projections, dropGrace: .milliseconds(50)).rebuild(["order"])
        let rebuilt = ViewKeys(keys: store.keys, projection: OrderProjection.name, generation: try await generations.live("order"))
        #expect(rebuilt.generation == 2)
        #expect(try await dumpReadModel(store, rebuilt) == before)
    }

    /// Case and accents fold the same way in the index and in the query (NFKC, full case folding).
    @Test(arguments: [
        ("Zoe\u{0308} Martin", "Zo\u{00EB}"),   // stored decomposed, typed precomposed
        ("Zo\u{00EB} Martin", "ZOE\u{0308}"),   // and the other way round
        ("Σος Lee", "ΣΟΣ"),                     // final sigma
        ("ΣΟΣ Lee", "σος"),
        ("Mrs Straße", "STRASSE"),              // ß folds to ss
        ("Ａｎｎ Lee", "ann"),                   // full-width letters
        ("ﬁne Lee", "fine"),                    // a ligature
    ])
    func caseAndAccentsFoldAlikeInTheIndexAndTheQuery(name: String, query: String) async throws {
        let store = try await makeStore("fold")
        let created = try await CommandHandler(repository: OrderRepository(store: store))
            .handle(.init(orderId: nil, command: .create(customerName: name, customerEmail: "fold@example.com", items: sampleItems)))
        let projector = Projector(projection: OrderProjection(), log: store.log, settings: quickSettings("fold"))
        try await projector.createGroup()
        try await drain(projector, upTo: created.lastPosition)
        #expect(try await QueryHandler(log: store.log).search(query).map(\.orderId) == [created.orderId], "'\(query)' finds '\(name)'")
    }

    /// ASCII text is split as bytes; the same text through the Unicode path (made non-ASCII by an
    /// extra word) gives the same words.
    @Test(arguments: ["Ann-Marie O'Neil", "customer42@EXAMPLE.com", "SKU_7 / Blue Mug x2", "  ", "\t\n", "a",
                      String(repeating: "Ab1", count: 30) + " tail", "9f0efed7-321b-4100-8b1e-311ac7e11a6b"])
    func asciiWordsAreTheUnicodePathsWords(text: String) {
        #expect(TextFolding.words(text) + ["é"] == TextFolding.words(text + " é"))
        #expect(TextFolding.words(text).allSatisfy { $0.count <= 64 && $0 == $0.lowercased() })
    }

    @Test func emailsThatDifferOnlyInCaseAreOneCustomer() async throws {
        let store = try await makeStore("fold-email")
        let handler = CommandHandler(repository: OrderRepository(store: store))
        var last: LogPosition?
        for email in ["ΣΟΣ@example.gr", "σος@example.gr", "Σοσ@Example.GR"] {
            last = try await handler.handle(.init(orderId: nil, command: .create(customerName: "Sos", customerEmail: email,
                                                                                 items: sampleItems))).lastPosition
        }
        try await projectLive(store, upTo: last)
        let queries = QueryHandler(log: store.log)
        let customers = try await queries.topCustomers()
        #expect(customers.map(\.orders) == [3], "one customer with three orders: \(customers)")
        #expect(try await queries.list(.init(customerEmail: "σοσ@EXAMPLE.gr")).orders.count == 3)
    }
}
