import Foundation
import RedisClient
import OrdersDomain
import OrdersEventLog

/// `search`: orders whose folded words start with every word of the query, newest first.
extension QueryHandler {
    /// Orders whose words (customer name and email, order id, item names and skus) start with
    /// every word of `query`, case-insensitively; newest first. A query without a word (no
    /// letter or digit: punctuation, spaces) names nothing to look for and finds nothing.
    public func search(_ query: String, limit: Int = 50, minPosition: LogPosition? = nil) async throws -> [OrderView] {
        guard (1...1000).contains(limit) else { throw ReadSideError.invalid("limit must be between 1 and 1000, got \(limit)") }
        guard !query.isEmpty else { throw ReadSideError.invalid("q must not be empty") }
        let words = TextFolding.words(query)
        let keys = try await view(OrderProjection.name, applied: minPosition)
        guard !words.isEmpty else { return [] }
        // What each query word starts in the index (0xFF never occurs in UTF-8, so "[word" …
        // "[word\xFF" spans exactly that): words of customers and items, each with its set of
        // orders, and words of order ids, each an entry `<word>\0<orderId>` in the bucket of its
        // first characters. Together they tell how many (word, order) entries the query word
        // reaches: its selectivity. More words or entries than `searchIndexLimit` means more
        // than that many entries.
        func range(_ word: String) -> [any RedisArgument] {
            ["[" + word, Array(("[" + word).utf8) + [0xFF], "BYLEX", "LIMIT", 0, searchIndexLimit + 1]
        }
        // A word at least a bucket's length reads its own bucket; a shorter one first reads the
        // names of the buckets it starts, then each of them.
        let short = { (word: String) in word.count < ViewKeys.idBucketLength }
        let reached = try await log.redis.pipeline(words.flatMap { word -> [RedisCommand] in
            let ids = short(word) ? keys.idBuckets : keys.idBucket(ViewKeys.idBucket(of: word))
            return [RedisCommand("ZRANGE", [keys.words] + range(word)), RedisCommand("ZRANGE", [ids] + range(word))]
        }).map { try ($0.orThrow().array ?? []).compactMap(\.string) }
        let lists = stride(from: 0, to: reached.count, by: 2).map { reached[$0] }
        var idEntries = stride(from: 1, to: reached.count, by: 2).map { reached[$0] }
        let bucketed = words.indices.filter { short(words[$0]) }
        var bucketReplies = try await log.redis.pipeline(bucketed.flatMap { index in
            idEntries[index].map { RedisCommand("ZRANGE", [keys.idBucket($0)] + range(words[index])) }
        }).map { try ($0.orThrow().array ?? []).compactMap(\.string) }[...]
        for index in bucketed {
            let buckets = idEntries[index].count
            idEntries[index] = Array(bucketReplies.prefix(buckets).joined().prefix(searchIndexLimit + 1))
            bucketReplies = bucketReplies.dropFirst(buckets)
        }
        if words.indices.contains(where: { lists[$0].isEmpty && idEntries[$0].isEmpty }) { return [] }
        func tooMany(_ index: Int) -> Bool { lists[index].count + idEntries[index].count > searchIndexLimit }
        // A word past the projection's bound has no set (`common-words` names it): a query word
        // that starts one is common too.
        let counted = words.indices.filter { !tooMany($0) && !lists[$0].isEmpty }
        var rest = try await log.redis.pipeline(counted.flatMap { index in
            [RedisCommand("SMISMEMBER", [keys.commonWords] + lists[index])] + lists[index].map { RedisCommand("SCARD", keys.word($0)) }
        }).map { try $0.orThrow() }[...]
        var listed: [Int: Int] = [:] // query word → (word, order) entries its words' sets hold; nil: common
        for index in counted {
            let common = rest.first?.array?.contains { $0.int == 1 } ?? false
            let sizes = rest.dropFirst().prefix(lists[index].count).map { $0.int ?? 0 }
            rest = rest.dropFirst(1 + lists[index].count)
            if !common { listed[index] = sizes.reduce(0, +) }
        }
        let counts = words.indices.map { index -> Int in
            guard !tooMany(index) else { return Int.max }
            guard lists[index].isEmpty || listed[index] != nil else { return Int.max }
            return (listed[index] ?? 0) + idEntries[index].count
        }
        // Fetching every match of a common word ("customer" in a shop of Customer N) and ranking
        // them all cost more than everything else the service does; so only selective words are
        // read from the index, and common ones are checked on each candidate's own terms.
        let selective = words.indices.filter { counts[$0] <= searchIndexLimit }
        let common = words.indices.filter { counts[$0] > searchIndexLimit }.map { words[$0] }
        guard !selective.isEmpty else { return try await walkNewestFirst(matching: common, limit: limit, keys) }
        let withWords = selective.filter { !lists[$0].isEmpty }
        let replies = try await log.redis.pipeline(withWords.map { RedisCommand("SUNION", lists[$0].map { keys.word($0) }) })
        var fromSets: [Int: Set<String>] = [:]
        for (index, reply) in zip(withWords, replies) {
            fromSets[index] = Set(try (reply.orThrow().array ?? []).compactMap(\.string))
        }
        var matches: Set<String>?
        for index in selective {
            var ids = fromSets[index] ?? []
            for entry in idEntries[index] {
                if let separator = entry.utf8.firstIndex(of: 0) { ids.insert(String(entry[entry.utf8.index(after: separator)...])) }
            }
            matches = matches.map { $0.intersection(ids) } ?? ids
        }
        // Rank the candidates by creation time (one ZMSCORE), then fetch records only as far as
        // needed: all of the first `limit` match when every word was selective.
        let ids = Array(matches ?? [])
        guard !ids.isEmpty else { return [] }
        let scores = try await log.redis.send(RedisCommand("ZMSCORE", [keys.byCreated] + ids)).array ?? []
        let ranked = zip(ids, scores).compactMap { id, score in score.string.flatMap(Double.init).map { (id, $0) } }
            .sorted { ($0.1, $0.0) > ($1.1, $1.0) }.map(\.0)
        var found: [OrderView] = []
        var start = 0
        while found.count < limit && start < ranked.count {
            let page = Array(ranked[start..<min(ranked.count, start + max(limit, 100))])
            start += page.count
            found += try await views(page, keys).filter { Self.matches($0, common) }
        }
        return Array(found.prefix(limit))
    }

    /// Every word common: the orders newest first (the creation index), each checked on its own
    /// terms, until `limit` match. Words that common match most orders, so few pages are read;
    /// common words that (almost) never occur together stop after `scanBudget` orders.
    func walkNewestFirst(matching words: [String], limit: Int, _ keys: ViewKeys) async throws -> [OrderView] {
        var found: [OrderView] = []
        var offset = 0
        let pageSize = max(limit, 100)
        while found.count < limit && offset < scanBudget {
            let ids = (try await log.redis.send("ZRANGE", keys.byCreated, offset, offset + pageSize - 1, "REV").array ?? [])
                .compactMap(\.string)
            guard !ids.isEmpty else { break }
            offset += ids.count
            found += try await views(ids, keys).filter { Self.matches($0, words) }
        }
        return Array(found.prefix(limit))
    }

    /// True when every word starts one of the order's search terms (byte-wise, as the index's
    /// lexicographic ranges compare).
    static func matches(_ view: OrderView, _ words: [String]) -> Bool {
        guard !words.isEmpty else { return true }
        let terms = view.searchTerms
        return words.allSatisfy { word in terms.contains { $0.utf8.starts(with: word.utf8) } }
    }
}
