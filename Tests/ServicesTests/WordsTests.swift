import Testing

@testable import Services

/// What the server says to people: waits in the right plural, files by the names people use.
@Suite struct WordsTests {
    @Test func waitsAreCountedInTheRightUnits() {
        #expect(Words.wait(seconds: 1) == "in 1 second")
        #expect(Words.wait(seconds: 0) == "in 1 second")
        #expect(Words.wait(seconds: 40) == "in 40 seconds")
        #expect(Words.wait(seconds: 120) == "in 2 minutes")
        #expect(Words.wait(seconds: 61 * 60) == "in 61 minutes")
        #expect(Words.wait(seconds: 3 * 3600) == "in 3 hours")
        #expect(ServiceError.rateLimited(retryAfter: 1).message == "Too many attempts; try again in 1 second.")
    }

    @Test func filesAreCalledWhatPeopleCallThem() {
        #expect(
            Words.kind(of: "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
                == "a Word document")
        #expect(Words.kind(of: "application/pdf; charset=binary") == "a PDF")
        #expect(Words.kind(of: "image/x-icon") == "an image (X-ICON)")
        #expect(
            ServiceError.unsupportedType("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
                .message == "Word documents can't be shared here.")
        #expect(
            ServiceError.unsupportedType("application/msword").message
                == "Old-style Word documents (.doc) can't be shared here.")
        #expect(
            ServiceError.unsupportedType("image/x-icon").message == "Images of this kind (X-ICON) can't be shared here."
        )
        #expect(!ServiceError.unsupportedType("application/msword").message.contains("application/"))
        #expect(ServiceError.typeMismatch("image/png").message.contains("a PNG image"))
    }
}
