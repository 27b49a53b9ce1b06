import Foundation
@testable import OrdersAPI
import OrdersEventLog
import Testing

/// The hand-written response encoder writes what JSONSerialization wrote (sorted keys, slashes
/// unescaped), for every kind of value a response holds, including ids echoed from requests.
struct JSONLineEncoderTests {
    static var samples: [Any] {
        let parsed = try! JSONSerialization.jsonObject(with: Data(#"{"int":7,"neg":-3,"big":9007199254740993,"bool":true,"no":false,"one":1,"zero":0,"dbl":2.5,"whole":3.0,"s":"x","n":null,"a":[1,"two",true,null,{"k":"v"}]}"#.utf8))
        return [
            parsed,
            ["id": NSNull(), "ok": true, "result": ["orderId": "a-1", "version": 3, "duplicate": true, "total": "12.30"]],
            ["text": "quote \" backslash \\ slash / newline \n tab \t cr \r nul \u{0} bell \u{7} unicode é 漢 🙂"],
            ["nested": [["a": 1, "b": [Int64(5), 2.25, -0.5]], [:], []] as [Any]],
            ["ratio": 1.0 / 3.0, "small": 1e-7, "large": 123456789.125, "count": Int64.max],
            ["z": 1, "a": 2, "M": 3, "_": 4, "aa": 5, "a1": 6],
        ]
    }

    @Test(arguments: 0..<6)
    func writesWhatJSONSerializationWrote(index: Int) throws {
        let value = Self.samples[index]
        let ours = try JSONLineEncoder.encode(value)
        let foundation = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
        // Same meaning always; same bytes too, except how doubles are spelled (sample 4) and the
        // order of keys that differ in case (sample 5): ours is byte order, Foundation's ignores case.
        let reparsed = try JSONSerialization.jsonObject(with: Data(ours)) as! NSDictionary
        let expected = try JSONSerialization.jsonObject(with: foundation) as! NSDictionary
        #expect(reparsed == expected, "\(String(decoding: ours, as: UTF8.self))")
        if index == 5 {
            #expect(String(decoding: ours, as: UTF8.self) == #"{"M":3,"_":4,"a":2,"a1":6,"aa":5,"z":1}"#)
        } else if index != 4 {
            #expect(String(decoding: ours, as: UTF8.self) == String(decoding: foundation, as: UTF8.self))
        }
    }

    @Test func refusesWhatJSONCannotHold() {
        #expect(throws: JSONLineEncoder.Unencodable.self) { try JSONLineEncoder.encode(["x": Double.nan]) }
        #expect(throws: JSONLineEncoder.Unencodable.self) { try JSONLineEncoder.encode(["x": Date()]) }
    }
}

/// The answers written directly (commands' outcomes, errors, stored records) are the bytes the
/// general encoder writes for the same answer.
struct DirectAnswerTests {
    @Test func errorsAndOutcomesAreWrittenAsTheEncoderWould() throws {
        let id = RawJSON(Array("12345678901234567890".utf8))
        let conflict = APIError(.concurrencyConflict, "order o-1 is at version 3, not 2 \"quoted\"",
                                details: ["orderId": "o-1", "expectedVersion": 2, "actualVersion": 3])
        let general = try JSONLineEncoder.encode(["id": id, "ok": false,
                                                  "error": ["code": "concurrency_conflict", "message": conflict.message,
                                                            "orderId": "o-1", "expectedVersion": 2, "actualVersion": 3]] as [String: Any])
        #expect(LineRouter.encode(id: id, error: conflict) == general)
        let plain = APIError(.notFound, "order x does not exist")
        #expect(LineRouter.encode(id: RawJSON.null, error: plain)
                == Array(#"{"error":{"code":"not_found","message":"order x does not exist"},"id":null,"ok":false}"#.utf8))

        for duplicate in [false, true] {
            let result = AppendResult(orderId: "o-1", version: 4, positions: [LogPosition(milliseconds: 17, sequence: 2)], duplicate: duplicate)
            var object: [String: Any] = ["orderId": "o-1", "version": 4, "position": "17-2"]
            if duplicate { object["duplicate"] = true }
            #expect(LineRouter.encode(id: id, result: OrderJSON.appendResult(result, position: "17-2").bytes)
                    == (try JSONLineEncoder.encode(["id": id, "ok": true, "result": object] as [String: Any])))
        }
    }
}
