// Learning-rate schedules: closed forms per epoch, and their JSON form in config.json.
import Foundation
import Testing
@testable import HighwayNN

@Suite struct LearningRateScheduleTests {
    @Test func ratesPerEpoch() {
        #expect((0..<5).map { LearningRateSchedule.constant.rate(base: 0.1, epoch: $0) } == [0.1, 0.1, 0.1, 0.1, 0.1])
        #expect((0..<4).map { LearningRateSchedule.exponential(gamma: 0.5).rate(base: 0.8, epoch: $0) } == [0.8, 0.4, 0.2, 0.1])
        #expect((0..<7).map { LearningRateSchedule.step(every: 3, gamma: 0.1).rate(base: 1, epoch: $0) }
                == [1, 1, 1, 0.1, 0.1, 0.1, Float(pow(Double(Float(0.1)), 2))])  // γ is a Float, widened
        // Closed form: epoch 40 is base·γ⁴⁰ rounded once, not 40 rounded multiplications.
        #expect(LearningRateSchedule.exponential(gamma: 0.95).rate(base: 0.1, epoch: 40)
                == Float(Double(Float(0.1)) * pow(Double(Float(0.95)), 40)))
    }

    @Test func jsonRoundTripAndForm() throws {
        for s: LearningRateSchedule in [.constant, .exponential(gamma: 0.95), .step(every: 10, gamma: 0.5)] {
            let data = try JSONEncoder().encode(s)
            #expect(try JSONDecoder().decode(LearningRateSchedule.self, from: data) == s)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(String(decoding: try encoder.encode(LearningRateSchedule.step(every: 10, gamma: 0.5)), as: UTF8.self)
                == #"{"every":10,"gamma":0.5,"type":"step"}"#)
    }

    @Test func invalidJSONIsRejectedWithAReason() {
        for json in [#"{"type":"cosine"}"#, #"{"type":"step","gamma":0.5}"#, #"{"type":"step","every":0,"gamma":0.5}"#,
                     #"{"type":"exponential","gamma":-1}"#, #"{"type":"exponential","gamma":0}"#, #"{"gamma":0.5}"#] {
            #expect(throws: DecodingError.self, "\(json)") {
                try JSONDecoder().decode(LearningRateSchedule.self, from: Data(json.utf8))
            }
        }
        #expect(LearningRateSchedule.step(every: 0, gamma: 0.5).validationError?.contains("every = 0") == true)
    }
}
