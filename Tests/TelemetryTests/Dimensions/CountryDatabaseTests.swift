import Foundation
import Testing
@testable import Telemetry

/// Whether `python` can import mmdb_writer, which scripts/lib/make_mmdb.py needs.
private let mmdbWriterImportable = pythonCanImport("mmdb_writer")

/// The tests that build databases: skipped without mmdb-writer, except on CI (CI=true), where they run and
/// fail with make_mmdb.py's message.
private let needsGenerator = ConditionTrait.enabled(
    if: mmdbWriterImportable || onCI, "needs Python's mmdb-writer module: run scripts/setup (or .venv/bin/pip install -r requirements.txt)")

/// The networks of most tests: both families, a network inside another, and records without a country
/// code or with a registered country that differs.
private let networks = #"""
    {"81.2.69.0/24": "GB", "1.0.0.0/8": "US", "1.2.3.0/24": "JP", "2001:db8::/32": "DE", "2a02:c7f::/48": "GB",
     "5.6.7.0/24": {"registered_country": "FR"}, "10.0.0.0/8": {"country": "CA", "registered_country": "US"}}
    """#

/// The IPv4 networks of `networks`, for IPv4-only databases.
private let ipv4Networks = #"{"81.2.69.0/24": "GB", "1.0.0.0/8": "US", "1.2.3.0/24": "JP", "5.6.7.0/24": {"registered_country": "FR"}}"#

/// The country database scripts/lib/make_mmdb.py writes in `directory` from `networks` (JSON CIDR → code).
private func makeDatabase(_ directory: TempDirectory, _ networks: String, options: [String] = []) throws -> String {
    let path = directory.path + "/countries.mmdb"
    _ = try runPythonScript("scripts/lib/make_mmdb.py", [path, networks] + options)
    return path
}

/// Writes `bytes` to `name` in `directory` and returns its path.
private func write(_ bytes: [UInt8], _ directory: TempDirectory, _ name: String) throws -> String {
    let path = directory.path + "/" + name
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// Where the last `needle` in `bytes` starts.
private func lastIndex(of needle: [UInt8], in bytes: [UInt8]) -> Int? {
    guard bytes.count >= needle.count else { return nil }
    return (0...(bytes.count - needle.count)).last { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
}

/// The metadata marker of MaxMind DB files.
private let marker: [UInt8] = [0xAB, 0xCD, 0xEF] + Array("MaxMind.com".utf8)

/// The error `CountryDatabase(path:)` throws, or nil when it opens.
private func openingError(_ path: String) -> CountryDatabase.Error? {
    do {
        _ = try CountryDatabase(path: path)
        return nil
    } catch {
        return error
    }
}

@Suite struct CountryDatabaseTests {
    /// Addresses of `networks` and what an IPv6 database answers for them.
    static let answers: [(address: String, country: String?)] = [
        ("81.2.69.142", "GB"), ("81.2.69.0", "GB"), ("81.2.69.255", "GB"), ("81.2.70.0", nil), ("81.2.68.255", nil),
        ("1.0.0.0", "US"), ("1.255.255.255", "US"), ("1.2.3.4", "JP"), ("1.2.2.255", "US"), ("1.2.4.0", "US"),
        ("0.255.255.255", nil), ("2.0.0.0", nil), ("8.8.8.8", nil), ("255.255.255.255", nil), ("0.0.0.0", nil),
        ("5.6.7.8", "FR"), ("10.1.2.3", "CA"),
        ("2001:db8::1", "DE"), ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "DE"), ("2001:DB8::A", "DE"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "DE"), ("2001:db8:0:0:1:0:0:1", "DE"), ("2001:db9::", nil),
        ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", nil), ("2a02:c7f:0:1::1", "GB"), ("2a02:c7f:1::1", nil), ("::1", nil), ("::", nil),
        // IPv4-mapped addresses are their IPv4 address; IPv4-compatible ones (::a.b.c.d) are where IPv4 lives in the tree.
        ("::ffff:81.2.69.142", "GB"), ("::FFFF:1.2.3.4", "JP"), ("::ffff:5102:458e", "GB"), ("0:0:0:0:0:ffff:0a01:0203", "CA"),
        ("::ffff:8.8.8.8", nil), ("::81.2.69.142", "GB"),
    ]

    @Test(needsGenerator, arguments: [24, 28, 32])
    func ipv6DatabaseAnswersIPv4IPv6AndMappedAddresses(recordSize: Int) throws {
        let dir = TempDirectory()
        let db = try CountryDatabase(path: try makeDatabase(dir, networks, options: ["--record-size", "\(recordSize)"]))
        #expect(db.databaseType == "GeoLite2-Country")
        for (address, country) in Self.answers {
            #expect(db.country(of: address) == country, "\(address), record size \(recordSize)")
        }
    }

    @Test(needsGenerator, arguments: [24, 28, 32])
    func ipv4OnlyDatabaseAnswersIPv4AndMappedAddressesAndNoIPv6(recordSize: Int) throws {
        let dir = TempDirectory()
        let path = try makeDatabase(dir, ipv4Networks, options: ["--ip-version", "4", "--record-size", "\(recordSize)"])
        let db = try CountryDatabase(path: path)
        let expected: [(String, String?)] = [
            ("81.2.69.142", "GB"), ("1.2.3.4", "JP"), ("1.9.9.9", "US"), ("5.6.7.8", "FR"), ("8.8.8.8", nil), ("255.255.255.255", nil),
            ("::ffff:81.2.69.142", "GB"), ("::ffff:1.2.3.4", "JP"), ("2001:db8::1", nil), ("::81.2.69.142", nil), ("::", nil),
        ]
        for (address, country) in expected {
            #expect(db.country(of: address) == country, "\(address), record size \(recordSize)")
        }
    }

    @Test(needsGenerator)
    func everyTwoLetterCodeInItsOwnNetworkIsFound() throws {
        // 676 records make a data section past 2 KiB, so pointers take their two-byte form too.
        let letters = (UInt8(ascii: "A")...UInt8(ascii: "Z")).map { String(UnicodeScalar($0)) }
        let codes = letters.flatMap { first in letters.map { first + $0 } }
        let networks = codes.enumerated().map { #""20.\#($0.offset / 256).\#($0.offset % 256).0/24": "\#($0.element)""# }
        let dir = TempDirectory()
        let db = try CountryDatabase(path: try makeDatabase(dir, "{" + networks.joined(separator: ",") + "}"))
        for (i, code) in codes.enumerated() {
            #expect(db.country(of: "20.\(i / 256).\(i % 256).\(i % 256)") == code)
            #expect(db.country(of: "::ffff:20.\(i / 256).\(i % 256).255") == code)
        }
        #expect(db.country(of: "20.2.164.0") == nil)
    }

    @Test(needsGenerator)
    func theRegisteredCountryStandsInOnlyWhenTheRecordHasNoCountry() throws {
        let dir = TempDirectory()
        let db = try CountryDatabase(path: try makeDatabase(dir, networks))
        #expect(db.country(of: "5.6.7.8") == "FR")
        #expect(db.country(of: "10.0.0.1") == "CA")
    }

    @Test(needsGenerator)
    func databaseTypeIsTheMetadatas() throws {
        let dir = TempDirectory()
        let path = try makeDatabase(dir, ipv4Networks, options: ["--ip-version", "4", "--database-type", "DBIP-Country-Lite"])
        #expect(try CountryDatabase(path: path).databaseType == "DBIP-Country-Lite")
    }

    static let garbage = [
        "", " ", "banana", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-1", "01.2.3.4", "1.2.3.4 ", " 1.2.3.4", "1..3.4", "1.2.3.",
        ".1.2.3", "1.2.3.4/24", "1.2.3.4:80", "0x1.2.3.4", "١.٢.٣.٤", "1.2.3.4\u{0}", ":", ":::", "::1::", "2001:db8::1::2",
        "2001:db8:::1", "12345::", ":1::", "1::2:", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7::8", "2001:db8::g",
        "[2001:db8::1]", "fe80::1%eth0", "::ffff:1.2.3", "::ffff:999.1.1.1", "::ffff:1.2.3.4:5", "::1.2.3.4.5", "1.2.3.4::",
        "2001:db8::1.2.3.4.5", String(repeating: "1", count: 10_000), String(repeating: "1:", count: 5_000), "81.2.69.142\n",
    ]

    @Test(needsGenerator)
    func textThatIsNoAddressFindsNothing() throws {
        let dir = TempDirectory()
        // ::/1 and 8000::/1 cover every address, IPv4 ones too (they live at ::/96), so only a parse failure answers nil.
        let db = try CountryDatabase(path: try makeDatabase(dir, #"{"::/1": "AQ", "8000::/1": "AQ"}"#))
        for address in ["81.2.69.142", "::ffff:1.2.3.4", "ffff::1", "::"] { #expect(db.country(of: address) == "AQ", "\(address)") }
        for address in Self.garbage { #expect(db.country(of: address) == nil, "\(address.debugDescription)") }
    }

    @Test(needsGenerator)
    func aFileCutAtEveryLengthThrowsOrAnswersAsBefore() throws {
        let dir = TempDirectory()
        let path = try makeDatabase(dir, networks)
        let intact = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
        let before = try CountryDatabase(path: path)
        let metadataStart = try #require(lastIndex(of: marker, in: intact)) + marker.count
        for length in 0..<intact.count {
            let db = try? CountryDatabase(path: try write(Array(intact[..<length]), dir, "cut.mmdb"))
            // Without the whole metadata marker it is no database; a cut in the metadata either takes a field a
            // lookup needs (and throws) or only later ones (mmdb-writer puts description and build_epoch last).
            if length < metadataStart { #expect(db == nil, "cut at \(length)") }
            for (address, _) in Self.answers where db != nil {
                #expect(db?.country(of: address) == before.country(of: address), "\(address), cut at \(length)")
            }
        }
        let half = try write(Array(intact[..<(intact.count / 2)]), dir, "half.mmdb")
        #expect(openingError(half)?.description.contains("no metadata marker") == true)
    }

    @Test(needsGenerator)
    func everyByteDamagedInTurnThrowsOrAnswersAnyCountryOrNil() throws {
        let dir = TempDirectory()
        let intact = try Array(Data(contentsOf: URL(fileURLWithPath: try makeDatabase(dir, networks))))
        let addresses = Self.answers.map(\.address) + ["2001:db8:1234::1", "1.200.3.4", "81.2.69.7"]
        for offset in intact.indices {
            var bytes = intact
            let damage: UInt8 = [0xFF, 0x80, 0x01, 0x20][offset % 4]  // every bit, the top one, sizes off by one, a type
            bytes[offset] ^= damage
            guard let db = try? CountryDatabase(path: try write(bytes, dir, "damaged.mmdb")) else { continue }
            for address in addresses {
                let country = db.country(of: address)
                #expect(country == nil || country!.utf8.count == 2 && country!.allSatisfy { $0.isASCII && $0.isUppercase },
                        "\(address), byte \(offset) ^ \(damage)")
            }
        }
    }

    @Test(needsGenerator)
    func anUnsupportedRecordSizeIsRefusedByName() throws {
        let dir = TempDirectory()
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: try makeDatabase(dir, networks, options: ["--record-size", "24"]))))
        // The metadata holds "record_size" (a string) and then 24 as a one-byte uint16: 0xA1 0x18.
        let key = Array("record_size".utf8)
        let at = try #require(lastIndex(of: key, in: bytes))
        #expect(bytes[(at + key.count)...].starts(with: [0xA1, 0x18]))
        bytes[at + key.count + 1] = 20
        let path = try write(bytes, dir, "twenty.mmdb")
        let error = try #require(openingError(path))
        #expect(error.description.contains(path) && error.description.contains("unsupported record size 20"), "\(error)")
    }

    @Test func aMissingFileIsAnErrorThatNamesIt() throws {
        let path = TempDirectory().path + "/no-such.mmdb"
        let error = try #require(openingError(path))
        #expect(error.description.contains(path), "\(error)")
        #expect(!error.description.contains("\n"))
    }

    @Test func aFileThatIsNoMaxMindDBIsAnErrorThatNamesIt() throws {
        let dir = TempDirectory()
        let files: [(name: String, bytes: [UInt8])] = [("empty.mmdb", []), ("text.mmdb", Array("not a database\n".utf8)), ("marker-only.mmdb", marker)]
        for (name, bytes) in files {
            let path = try write(bytes, dir, name)
            let error = try #require(openingError(path))
            #expect(error.description.contains(path) && error.description.contains("not a MaxMind DB"), "\(error)")
        }
    }
}
