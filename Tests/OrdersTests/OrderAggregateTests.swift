import OrdersDomain
import OrdersEventLog
import OrdersWriteSide
import OrdersReadSide
import Testing

/// The order's rules, without Redis: what each command does in each status.
@Suite struct OrderAggregateTests {
    private func order(in status: OrderStatus) -> OrderAggregate {
        var aggregate = OrderAggregate(orderId: "o-1")
        for event in try! aggregate.decide(createSample) { aggregate.apply(event, at: Timestamp(milliseconds: 0)) }
        let path: [OrderStatus] = [.confirmed, .processing, .shipped, .delivered]
        if status == .cancelled {
            aggregate.apply(.cancelled(OrderCancelled(from: .pending, reason: nil)), at: Timestamp(milliseconds: 1))
        } else {
            for next in path.prefix(while: { $0 <= status }) {
                aggregate.apply(.statusChanged(OrderStatusChanged(from: aggregate.state!.status, to: next)),
                                at: Timestamp(milliseconds: 1))
            }
        }
        #expect(aggregate.state?.status == status)
        return aggregate
    }

    static let allowed: [(OrderStatus, OrderStatus)] = [
        (.pending, .confirmed), (.confirmed, .processing), (.processing, .shipped), (.shipped, .delivered),
    ]

    @Test(arguments: OrderStatus.allCases)
    func statusFlowAllowsOnlyTheNextStep(from: OrderStatus) throws {
        let aggregate = order(in: from)
        for target in OrderStatus.allCases {
            let allowed = Self.allowed.contains { $0 == (from, target) }
            if allowed {
                #expect(try aggregate.decide(.updateStatus(target)) == [.statusChanged(OrderStatusChanged(from: from, to: target))])
            } else {
                #expect(throws: DomainError.self, "\(from) → \(target)") { try aggregate.decide(.updateStatus(target)) }
            }
        }
    }

    @Test func settingTheCurrentStatusAgainIsAnInvalidTransition() {
        #expect(throws: DomainError.invalidTransition("order o-1 is already pending")) {
            try order(in: .pending).decide(.updateStatus(.pending))
        }
    }

    @Test(arguments: OrderStatus.allCases)
    func cancelOnlyWhilePendingConfirmedOrProcessing(status: OrderStatus) throws {
        let aggregate = order(in: status)
        if [.pending, .confirmed, .processing].contains(status) {
            #expect(try aggregate.decide(.cancel(reason: "changed mind"))
                == [.cancelled(OrderCancelled(from: status, reason: "changed mind"))])
        } else {
            #expect(throws: DomainError.self) { try aggregate.decide(.cancel(reason: nil)) }
        }
    }

    @Test func deletedOrdersAreNotFoundForEveryLaterCommand() {
        var aggregate = order(in: .confirmed)
        aggregate.apply(.deleted(OrderDeleted()), at: Timestamp(milliseconds: 2))
        for command: OrderCommand in [.updateStatus(.processing), .cancel(reason: nil), .delete] {
            #expect(throws: DomainError.notFound("order o-1 does not exist")) { try aggregate.decide(command) }
        }
        #expect(throws: DomainError.self) { try aggregate.decide(createSample) }
    }

    @Test func commandsOnAMissingOrderAreNotFoundAndCreateTwiceIsRefused() {
        let missing = OrderAggregate(orderId: "o-1")
        #expect(throws: DomainError.notFound("order o-1 does not exist")) { try missing.decide(.delete) }
        #expect(throws: DomainError.self) { try order(in: .pending).decide(createSample) }
    }

    static let item = OrderItem(sku: "S", name: "N", quantity: 1, unitPrice: Money(cents: 100))

    static let invalidCreates: [(String, OrderCommand)] = [
        ("empty name", .create(customerName: "", customerEmail: "a@b.io", items: [item])),
        ("blank name", .create(customerName: "   ", customerEmail: "a@b.io", items: [item])),
        ("long name", .create(customerName: String(repeating: "x", count: 201), customerEmail: "a@b.io", items: [item])),
        ("email without @", .create(customerName: "A", customerEmail: "ab.io", items: [item])),
        ("email without dot", .create(customerName: "A", customerEmail: "a@b", items: [item])),
        ("email with space", .create(customerName: "A", customerEmail: "a b@c.io", items: [item])),
        ("no items", .create(customerName: "A", customerEmail: "a@b.io", items: [])),
        ("101 items", .create(customerName: "A", customerEmail: "a@b.io", items: Array(repeating: item, count: 101))),
        ("quantity 0", .create(customerName: "A", customerEmail: "a@b.io",
                               items: [OrderItem(sku: "S", name: "N", quantity: 0, unitPrice: .zero)])),
        ("quantity 10001", .create(customerName: "A", customerEmail: "a@b.io",
                                   items: [OrderItem(sku: "S", name: "N", quantity: 10_001, unitPrice: .zero)])),
        ("negative price", .create(customerName: "A", customerEmail: "a@b.io",
                                   items: [OrderItem(sku: "S", name: "N", quantity: 1, unitPrice: Money(cents: -1))])),
        ("price over the limit", .create(customerName: "A", customerEmail: "a@b.io",
                                         items: [OrderItem(sku: "S", name: "N", quantity: 1, unitPrice: Money(cents: 100_000_001))])),
        ("NUL in name", .create(customerName: "A\u{0}B", customerEmail: "a@b.io", items: [item])),
        ("empty sku", .create(customerName: "A", customerEmail: "a@b.io",
                              items: [OrderItem(sku: "", name: "N", quantity: 1, unitPrice: .zero)])),
    ]

    @Test(arguments: invalidCreates)
    func invalidCreatesAreValidationErrors(label: String, command: OrderCommand) {
        do {
            _ = try OrderAggregate(orderId: "o-1").decide(command)
            Issue.record("\(label) was accepted")
        } catch {
            guard case .validation = error else { Issue.record("\(label): \(error)"); return }
        }
    }

    /// The checks read ASCII text as bytes and other text by characters: the same rule either way.
    /// Each email is tried as it is and as a twin with a non-ASCII letter where it changes nothing.
    @Test(arguments: [
        ("a@b.io", "é@b.io", true), ("ab.io", "éb.io", false), ("a@b", "a@é", false), ("a b@c.io", "é b@c.io", false),
        ("@b.io", "@é.io", false), ("a@.b.io", "é@.b.io", false), ("a@b.io.", "é@b.io.", false), ("a@@b.io", "é@@b.io", false),
        ("a@b@c.io", "é@b@c.io", false), ("a\tb@c.io", "é\tb@c.io", false), ("a@b.io\u{7f}", "é@b.io\u{7f}", false),
        ("a\r\nb@c.io", "é\r\nb@c.io", false), ("first.last+tag@sub.example.co", "first.lést+tag@sub.example.co", true),
    ])
    func emailRulesAgreeForASCIIAndOtherText(email: String, twin: String, valid: Bool) {
        for variant in [email, twin] {
            let accepted = (try? OrderAggregate(orderId: "o-1").decide(
                .create(customerName: "A", customerEmail: variant, items: [Self.item]))) != nil
            #expect(accepted == valid, "\(variant.debugDescription)")
        }
        // Lengths count characters: 200 of them are allowed, whatever their bytes.
        for name in [String(repeating: "x", count: 200), String(repeating: "é", count: 200)] {
            #expect((try? OrderAggregate(orderId: "o-1").decide(.create(customerName: name, customerEmail: "a@b.io", items: [Self.item]))) != nil)
            #expect((try? OrderAggregate(orderId: "o-1").decide(.create(customerName: name + "y", customerEmail: "a@b.io", items: [Self.item]))) == nil)
        }
        #expect((try? OrderAggregate(orderId: "o-1").decide(.create(customerName: " \u{3000}", customerEmail: "a@b.io", items: [Self.item]))) == nil,
                "blank in any script")
    }

    @Test func randomIdentifiersAreVersion4UUIDsAndDistinct() {
        let ids = (0..<20_000).map { _ in RandomIdentifiers.uuid() }
        #expect(Set(ids).count == ids.count)
        let hex = Set("0123456789abcdef")
        for id in ids.prefix(200) {
            let parts = id.split(separator: "-")
            #expect(parts.map(\.count) == [8, 4, 4, 4, 12], "\(id)")
            #expect(parts.allSatisfy { $0.allSatisfy(hex.contains) }, "\(id)")
            #expect(parts[2].first == "4" && "89ab".contains(parts[3].first!), "\(id)")
        }
    }

    @Test func boundaryValuesAreAccepted() throws {
        let items = Array(repeating: OrderItem(sku: "S", name: "N", quantity: 10_000, unitPrice: OrderRules.maxUnitPrice),
                          count: 100)
        let events = try OrderAggregate(orderId: "o-1").decide(
            .create(customerName: String(repeating: "x", count: 200), customerEmail: "a@b.io", items: items))
        var aggregate = OrderAggregate(orderId: "o-1")
        aggregate.apply(events[0], at: Timestamp(milliseconds: 0))
        #expect(aggregate.state?.total == Money(cents: 100_000_000 * 10_000 * 100))
    }

    @Test func totalIsTheExactSumOfLines() {
        let aggregate = order(in: .pending)
        #expect(aggregate.state?.total == Money(decimal: "24.48"))
    }
}

@Suite struct MoneyAndTimeTests {
    @Test(arguments: [("19.98", 1998), ("0", 0), ("0.5", 50), ("0.05", 5), ("-3.50", -350), ("1000000000.00", 100_000_000_000)])
    func parsesDecimalStrings(text: String, cents: Int64) {
        #expect(Money(decimal: text) == Money(cents: cents))
    }

    @Test(arguments: ["", "1.234", "1e3", " 1", "1.", ".5", "abc", "1,00", "--1", "0x10", "9999999999999999", "-", "1-2", "1.2.3",
                      "-.5", "+1", "1 ", "١"])
    func rejectsMalformedAmounts(text: String) {
        #expect(Money(decimal: text) == nil)
    }

    @Test func logPositionsParseExactlyTheirOwnForm() {
        #expect(LogPosition("1795375537767-0") == LogPosition(milliseconds: 1_795_375_537_767, sequence: 0))
        #expect(LogPosition("0-18446744073709551615") == LogPosition(milliseconds: 0, sequence: UInt64.max))
        for bad in ["", "-", "1-", "-1", "1-2-3", "a-1", "1-b", "18446744073709551616-0", "1 -2", "+1-2", "1"] {
            #expect(LogPosition(bad) == nil, "\(bad)")
        }
    }

    @Test func printsTwoDecimals() {
        #expect(Money(cents: 1998).description == "19.98")
        #expect(Money(cents: 5).description == "0.05")
        #expect(Money(cents: -350).description == "-3.50")
        // 0.1 + 0.2 is exactly 0.3 here, unlike with binary floating point.
        #expect(Money(decimal: "0.1")! + Money(decimal: "0.2")! == Money(decimal: "0.3")!)
    }

    @Test(arguments: [
        ("1970-01-01T00:00:00.000Z", 0), ("2026-11-22T10:00:00Z", 1_795_341_600_000),
        ("2026-11-22T10:00:00.5Z", 1_795_341_600_500), ("2026-11-22T11:00:00+01:00", 1_795_341_600_000),
        ("2024-02-29T23:59:59.999Z", 1_709_251_199_999), ("1795341600000", 1_795_341_600_000),
    ])
    func parsesTimes(text: String, ms: Int64) {
        #expect(Timestamp(parsing: text)?.milliseconds == ms)
    }

    @Test(arguments: ["2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-22 10:00:00Z", "2026-11-22T10:00:00",
                      "yesterday", "2026-11-22T25:00:00Z", ""])
    func rejectsMalformedTimes(text: String) {
        #expect(Timestamp(parsing: text) == nil)
    }

    @Test func printsISO8601UTCWithMilliseconds() {
        #expect(Timestamp(milliseconds: 1_795_341_600_123).description == "2026-11-22T10:00:00.123Z")
        #expect(Timestamp(milliseconds: -1).description == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(milliseconds: 1_795_341_600_123).day == "2026-11-22")
    }

    @Test func eventsRoundTripThroughTheirStoredForm() throws {
        let events: [OrderEvent] = [
            .created(OrderCreated(customerName: "Ann", customerEmail: "a@b.io", items: sampleItems)),
            .statusChanged(OrderStatusChanged(from: .pending, to: .confirmed)),
            .cancelled(OrderCancelled(from: .confirmed, reason: "no stock")),
            .deleted(OrderDeleted()),
        ]
        for event in events {
            let data = OrderEventCoding.encode(event)
            #expect(try OrderEventCoding.decode(type: event.type, data: data) == event)
        }
        #expect(OrderEventCoding.encode(events[1]) == #"{"from":"pending","to":"confirmed"}"#)
        #expect(throws: OrderEventCoding.UnknownEvent.self) { try OrderEventCoding.decode(type: "Nope", data: "{}") }
        #expect(throws: OrderEventCoding.UnknownEvent.self) { try OrderEventCoding.decode(type: "OrderCreated", data: "{") }
    }
}
