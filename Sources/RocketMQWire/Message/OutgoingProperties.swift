/// The properties of a message a producer sends: its own list, then `WAIT` and `UNIQ_KEY`, which every send carries
/// and which are written from their values. A message without properties of its own sends with no entry, array or
/// string made for them; the properties string is spelled straight into the frame (see
/// ``SendMessageRequestHeader/v2Fields(properties:)``).
package struct OutgoingProperties: Sendable, Hashable {
    /// The message's properties besides `WAIT` and `UNIQ_KEY`, in wire order.
    package var list: MessageProperties
    /// `WAIT`: whether the broker answers only once the message is stored.
    package var waitStoreMessageOK: Bool
    /// `UNIQ_KEY`: the client's message id.
    package var uniqueKey: HexIDText

    package init(list: MessageProperties = MessageProperties(), waitStoreMessageOK: Bool, uniqueKey: HexIDText) {
        self.list = list
        self.waitStoreMessageOK = waitStoreMessageOK
        self.uniqueKey = uniqueKey
    }

    /// Every property as entries: ``list``, then `WAIT` and `UNIQ_KEY`.
    package var all: MessageProperties {
        var all = list
        all[MessageProperty.waitStoreMessageOK] = waitStoreMessageOK ? "true" : "false"
        all[MessageProperty.uniqueKey] = uniqueKey.text
        return all
    }

    /// About how many bytes the properties take as a JSON string: the separators escaped (six bytes each).
    var estimatedJSONByteCount: Int {
        list.encodedByteCount + list.entries.count * 10 + 70 + uniqueKey.utf8Count
    }
}

extension JSONTextOutput {
    /// Appends `properties.all.encoded` as a quoted, escaped string, written from the values (no string made first).
    mutating func writeString(_ properties: OutgoingProperties) {
        writeByte(UInt8(ascii: "\""))
        writeEntries(of: properties.list)
        if properties.waitStoreMessageOK {
            writeRaw("WAIT\\u0001true\\u0002")
        } else {
            writeRaw("WAIT\\u0001false\\u0002")
        }
        writeRaw("UNIQ_KEY\\u0001")
        writeStringContent(properties.uniqueKey)
        writeRaw("\\u0002")
        writeByte(UInt8(ascii: "\""))
    }
}
