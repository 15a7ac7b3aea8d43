//! The application-data proposals of draft-ietf-mls-extensions: wire forms
//! of AppDataUpdate ("Updating Application Data in the GroupContext") and
//! AppEphemeral ("Attaching Application Data to a Commit").

use crate::codec::{
    Decode, DecodeError, Encode, Reader, Writer, bad_tag, field, tag_u8, wire_struct,
};
use crate::crypto::component::ComponentId;

/// `AppDataUpdateOperation` with its body: `update(1)` carries the update
/// the component's application logic interprets, `remove(2)` nothing.
/// `invalid(0)` and unassigned values are refused when decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppDataOperation {
    /// `update`: `opaque update<V>`, handed to the component's logic.
    Update(Vec<u8>),
    /// `remove`: delete the component's entry from the dictionary.
    Remove,
}

/// `AppDataUpdate`: a change of one component's entry of the GroupContext
/// `app_data_dictionary`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppDataUpdate {
    /// The component whose data changes.
    pub component_id: ComponentId,
    /// What happens to it.
    pub op: AppDataOperation,
}

impl Encode for AppDataUpdate {
    fn encode(&self, w: &mut Writer) {
        self.component_id.encode(w);
        match &self.op {
            AppDataOperation::Update(update) => {
                w.put(&[1]);
                update.encode(w);
            }
            AppDataOperation::Remove => w.put(&[2]),
        }
    }
}

impl Decode for AppDataUpdate {
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let component_id = field(r, "component_id")?;
        let (op, at) = tag_u8(r)?;
        let op = match op {
            1 => AppDataOperation::Update(field(r, "update")?),
            2 => AppDataOperation::Remove,
            // invalid(0), and values the draft does not assign.
            v => return Err(bad_tag(v.into(), at, "op")),
        };
        Ok(Self { component_id, op })
    }
}

wire_struct! {
    /// `AppEphemeral`: data for one component, attached to the commit that
    /// covers it and not stored in the group state.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct AppEphemeral {
        /// The component the data is for.
        pub component_id: ComponentId,
        /// The data, as the component defines it.
        pub data: Vec<u8>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode_exact, encode};

    #[test]
    fn app_data_update_encodes_as_the_draft_says() {
        let update = AppDataUpdate {
            component_id: 0x8001,
            op: AppDataOperation::Update(b"ab".to_vec()),
        };
        // uint16 component_id, uint8 op, opaque update<V>.
        let bytes = encode(&update).unwrap();
        assert_eq!(bytes, [0x80, 0x01, 1, 2, b'a', b'b']);
        assert_eq!(decode_exact::<AppDataUpdate>(&bytes).unwrap(), update);
        let remove = AppDataUpdate {
            component_id: 7,
            op: AppDataOperation::Remove,
        };
        let bytes = encode(&remove).unwrap();
        assert_eq!(bytes, [0, 7, 2]);
        assert_eq!(decode_exact::<AppDataUpdate>(&bytes).unwrap(), remove);
    }

    #[test]
    fn invalid_and_unknown_operations_and_trailing_bytes_are_refused() {
        // invalid(0), an unassigned value, a remove followed by a body, and
        // an update whose body is cut short.
        for bad in [
            &[0u8, 7, 0][..],
            &[0, 7, 3],
            &[0, 7, 2, 0],
            &[0, 7, 1, 5, 1],
        ] {
            assert!(decode_exact::<AppDataUpdate>(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn app_ephemeral_encodes_as_the_draft_says() {
        let e = AppEphemeral {
            component_id: 3,
            data: vec![9],
        };
        let bytes = encode(&e).unwrap();
        assert_eq!(bytes, [0, 3, 1, 9]);
        assert_eq!(decode_exact::<AppEphemeral>(&bytes).unwrap(), e);
    }
}
