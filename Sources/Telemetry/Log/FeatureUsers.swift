/// Distinct users per feature over a window, read from the raw log (exact within raw retention).
public struct FeatureUsers {
    let dataDirectory: String
    let cancellation: ScanCancellation

    public init(dataDirectory: String, cancellation: ScanCancellation = ScanCancellation()) {
        self.dataDirectory = dataDirectory
        self.cancellation = cancellation
    }

    public func count(start: CivilDate, end: CivilDate) throws -> [String: Int] {
        let replay = LogReplay(directory: dataDirectory, logger: .init(label: "telemetryd"))
        var users: [String: Set<[UInt8]>] = [:]
        try replay.forEachEvent(in: replay.files(), cancellation: cancellation) { e, line in
            let day = CivilDate(epochMilliseconds: e.ts)
            guard day >= start, day <= end, let f = e.feature, let u = e.user else { return }
            users[JSONString.decode(canonical: Array(line[f])), default: []].insert(Array(line[u]))
        }
        return users.mapValues(\.count)
    }
}
