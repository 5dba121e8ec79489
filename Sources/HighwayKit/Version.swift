/// The version of HighwayKit, as `highway --version` prints it.
///
/// Kept by hand in step with the release tag (semantic versioning).
public let highwayKitVersion = "0.1.0"
