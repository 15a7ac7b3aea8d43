//! Content advertisement and acknowledgements of draft-ietf-mls-extensions:
//! the `content_media_types` component (`MediaTypeList` of `MediaType`),
//! the `ApplicationFraming` of `application_data` in a group that requires
//! media types, and the `AppAck` carried by an AppEphemeral of the
//! `app_ack` component.

use crate::codec::{Decode, DecodeError, DecodeErrorKind, Encode, Reader, Writer, wire_struct};
use crate::{Error, Result};

wire_struct! {
    /// `Parameter` of a media type: name and value, without RFC 2045
    /// quoting.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct MediaTypeParameter {
        /// `parameter_name`, e.g. `charset`.
        pub parameter_name: Vec<u8>,
        /// `parameter_value`, e.g. `UTF-8`.
        pub parameter_value: Vec<u8>,
    }
}

wire_struct! {
    /// `MediaType`: an IANA media type (`type/subtype`) and its parameters.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct MediaType {
        /// `type`: the top-level type, `/`, the subtype (e.g.
        /// `text/plain`). Empty only in an [`ApplicationFraming`], where it
        /// stands for the group's first media type.
        pub media_type: Vec<u8>,
        /// `parameters`, zero or more.
        pub parameters: Vec<MediaTypeParameter>,
    }
}

impl MediaType {
    /// `media_type` (`type/subtype`) without parameters.
    pub fn new(media_type: &str) -> Self {
        Self {
            media_type: media_type.as_bytes().to_vec(),
            parameters: Vec::new(),
        }
    }

    /// With the parameter `name` = `value` added.
    pub fn with_parameter(mut self, name: &str, value: &str) -> Self {
        self.parameters.push(MediaTypeParameter {
            parameter_name: name.as_bytes().to_vec(),
            parameter_value: value.as_bytes().to_vec(),
        });
        self
    }

    /// Whether `self` and `other` name the same media type: type and
    /// subtype compared without regard to ASCII case (RFC 6838 §4.2), the
    /// same parameters in any order (names without regard to case, values
    /// exactly).
    pub fn matches(&self, other: &MediaType) -> bool {
        let same_parameters = |a: &[MediaTypeParameter], b: &[MediaTypeParameter]| {
            a.iter().all(|p| {
                b.iter().any(|q| {
                    p.parameter_name.eq_ignore_ascii_case(&q.parameter_name)
                        && p.parameter_value == q.parameter_value
                })
            })
        };
        self.media_type.eq_ignore_ascii_case(&other.media_type)
            && self.parameters.len() == other.parameters.len()
            && same_parameters(&self.parameters, &other.parameters)
            && same_parameters(&other.parameters, &self.parameters)
    }
}

/// `MediaTypeList`: the data of the `content_media_types` component. "must
/// contain at least one item": an empty list is refused when built or
/// decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaTypeList {
    media_type_list: Vec<MediaType>,
}

impl MediaTypeList {
    /// The list, refused ([`Error::Misuse`]) when empty.
    pub fn new(media_type_list: Vec<MediaType>) -> Result<Self> {
        if media_type_list.is_empty() {
            return Err(Error::Misuse(
                "a content_media_types list must contain at least one media type".into(),
            ));
        }
        Ok(Self { media_type_list })
    }

    /// The media types, in the advertised order.
    pub fn media_types(&self) -> &[MediaType] {
        &self.media_type_list
    }

    /// Whether the list holds a type that [`MediaType::matches`] `wanted`.
    pub fn accepts(&self, wanted: &MediaType) -> bool {
        self.media_type_list.iter().any(|m| m.matches(wanted))
    }
}

impl Encode for MediaTypeList {
    fn encode(&self, w: &mut Writer) {
        self.media_type_list.encode(w);
    }
}

impl Decode for MediaTypeList {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        let media_type_list: Vec<MediaType> = Decode::decode(r)?;
        if media_type_list.is_empty() {
            return Err(DecodeError::new(
                DecodeErrorKind::Invalid("an empty content_media_types list"),
                at,
            ));
        }
        Ok(Self { media_type_list })
    }
}

wire_struct! {
    /// `ApplicationFraming`: the `application_data` of a group whose
    /// GroupContext has the `content_media_types` component.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ApplicationFraming {
        /// The content's media type; an empty `type` means the group's first
        /// media type.
        pub media_type: MediaType,
        /// `inner_application_content`.
        pub inner_application_content: Vec<u8>,
    }
}

wire_struct! {
    /// `MessageRange`: messages of one sender whose generations run from
    /// `first_generation` to `last_generation`, inclusive.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct MessageRange {
        /// The sender's leaf index.
        pub sender: u32,
        /// The first generation received.
        pub first_generation: u32,
        /// The last generation received.
        pub last_generation: u32,
    }
}

/// `AppAck`: the application messages the sender received in the current
/// epoch. A range whose first generation exceeds its last is refused when
/// built or decoded: it would stand for no message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppAck {
    received_ranges: Vec<MessageRange>,
}

impl AppAck {
    /// The acknowledgement, refused ([`Error::Misuse`]) if a range is
    /// inverted.
    pub fn new(received_ranges: Vec<MessageRange>) -> Result<Self> {
        if let Some(r) = received_ranges
            .iter()
            .find(|r| r.first_generation > r.last_generation)
        {
            return Err(Error::Misuse(format!(
                "an AppAck range from generation {} to {} is inverted",
                r.first_generation, r.last_generation
            )));
        }
        Ok(Self { received_ranges })
    }

    /// The ranges, as sent.
    pub fn received_ranges(&self) -> &[MessageRange] {
        &self.received_ranges
    }

    /// Whether the message of `sender` at `generation` is acknowledged.
    pub fn covers(&self, sender: u32, generation: u32) -> bool {
        self.received_ranges.iter().any(|r| {
            r.sender == sender && (r.first_generation..=r.last_generation).contains(&generation)
        })
    }
}

impl Encode for AppAck {
    fn encode(&self, w: &mut Writer) {
        self.received_ranges.encode(w);
    }
}

impl Decode for AppAck {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.offset();
        let received_ranges: Vec<MessageRange> = Decode::decode(r)?;
        if received_ranges
            .iter()
            .any(|r| r.first_generation > r.last_generation)
        {
            return Err(DecodeError::new(
                DecodeErrorKind::Invalid("an AppAck range whose first generation exceeds its last"),
                at,
            ));
        }
        Ok(Self { received_ranges })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode_exact, encode};

    #[test]
    fn media_types_encode_as_the_draft_says_and_match_case_insensitively() {
        // The draft's example: text/plain ;charset="UTF-8".
        let plain = MediaType::new("text/plain").with_parameter("charset", "UTF-8");
        let mut expected = vec![10];
        expected.extend_from_slice(b"text/plain");
        expected.push(14); // parameters<V>: one Parameter of 14 bytes
        expected.push(7);
        expected.extend_from_slice(b"charset");
        expected.push(5);
        expected.extend_from_slice(b"UTF-8");
        assert_eq!(encode(&plain).unwrap(), expected);
        assert_eq!(decode_exact::<MediaType>(&expected).unwrap(), plain);
        assert!(plain.matches(&MediaType::new("Text/Plain").with_parameter("CHARSET", "UTF-8")));
        assert!(!plain.matches(&MediaType::new("text/plain")));
        assert!(!plain.matches(&MediaType::new("text/plain").with_parameter("charset", "latin1")));
        let list = MediaTypeList::new(vec![MediaType::new("image/png"), plain.clone()]).unwrap();
        assert!(list.accepts(&plain) && !list.accepts(&MediaType::new("image/gif")));
    }

    #[test]
    fn an_empty_media_type_list_is_refused() {
        // "must contain at least one item"
        assert!(MediaTypeList::new(Vec::new()).is_err());
        assert!(decode_exact::<MediaTypeList>(&[0]).is_err());
    }

    #[test]
    fn app_ack_ranges_are_checked() {
        let ack = AppAck::new(vec![MessageRange {
            sender: 2,
            first_generation: 3,
            last_generation: 5,
        }])
        .unwrap();
        let bytes = encode(&ack).unwrap();
        assert_eq!(bytes, [12, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 5]);
        assert_eq!(decode_exact::<AppAck>(&bytes).unwrap(), ack);
        assert!(ack.covers(2, 3) && ack.covers(2, 5) && !ack.covers(2, 6) && !ack.covers(1, 4));
        let inverted = [12, 0, 0, 0, 2, 0, 0, 0, 5, 0, 0, 0, 3];
        assert!(decode_exact::<AppAck>(&inverted).is_err());
        assert!(
            AppAck::new(vec![MessageRange {
                sender: 0,
                first_generation: 1,
                last_generation: 0
            }])
            .is_err()
        );
    }
}
