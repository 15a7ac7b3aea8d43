//! The application-data structures of draft-ietf-mls-extensions: the
//! `app_data_dictionary` extension (`AppDataDictionary` of
//! `ComponentData`), the Safe AAD framing of `authenticated_data`
//! (`SafeAAD` of `SafeAADItem`), and the `ComponentsList` of the
//! `app_components` and `safe_aad` components. Each list is sorted by
//! component id with at most one entry per id; decoding refuses any other
//! order, as the draft's MUSTs require.

use crate::codec::{Decode, DecodeError, DecodeErrorKind, Encode, Reader, Writer, wire_struct};
use crate::crypto::component::ComponentId;
use crate::types::extensions::{Extension, ExtensionType};
use crate::{Error, Result};

wire_struct! {
    /// `ComponentData`: one component's data.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ComponentData {
        /// The component.
        pub component_id: ComponentId,
        /// Its data, as the component defines it.
        pub data: Vec<u8>,
    }
}

wire_struct! {
    /// `SafeAADItem`: one component's part of the authenticated data.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct SafeAadItem {
        /// The component.
        pub component_id: ComponentId,
        /// Its authenticated data.
        pub aad_item_data: Vec<u8>,
    }
}

/// Checks that `ids` increase strictly: "sorted by `component_id`" with
/// "at most one entry for each `component_id`".
fn strictly_increasing(ids: impl Iterator<Item = ComponentId>) -> bool {
    let mut last: Option<ComponentId> = None;
    for id in ids {
        if last.is_some_and(|l| l >= id) {
            return false;
        }
        last = Some(id);
    }
    true
}

/// Declares a list of items keyed by component id, sorted and unique.
macro_rules! sorted_components {
    ($(#[$meta:meta])* $name:ident, $field:ident, $item:ty, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name {
            $field: Vec<$item>,
        }

        impl $name {
            /// The list, refused ([`Error::Misuse`]) unless sorted by
            /// component id with at most one entry per id.
            pub fn new($field: Vec<$item>) -> Result<Self> {
                if strictly_increasing($field.iter().map(|i| i.component_id)) {
                    Ok(Self { $field })
                } else {
                    Err(Error::Misuse(format!(
                        "{}: entries must be sorted by component id, at most one per id",
                        $what
                    )))
                }
            }

            /// The entries, sorted by component id.
            pub fn $field(&self) -> &[$item] {
                &self.$field
            }

            /// The entry of `component_id`, if any.
            pub fn entry(&self, component_id: ComponentId) -> Option<&$item> {
                self.$field
                    .binary_search_by_key(&component_id, |i| i.component_id)
                    .ok()
                    .map(|at| &self.$field[at])
            }

            /// The encoded form.
            pub fn to_bytes(&self) -> Result<Vec<u8>> {
                Ok(crate::codec::encode(self)?)
            }

            /// Decodes exactly one, checking the order.
            pub fn parse(bytes: &[u8]) -> Result<Self> {
                crate::decode_exact($what, bytes)
            }
        }

        impl Encode for $name {
            fn encode(&self, w: &mut Writer) {
                self.$field.encode(w);
            }
        }

        impl Decode for $name {
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                let at = r.offset();
                let $field: Vec<$item> = Decode::decode(r)?;
                if strictly_increasing($field.iter().map(|i| i.component_id)) {
                    Ok(Self { $field })
                } else {
                    Err(DecodeError::new(
                        DecodeErrorKind::Invalid(
                            "entries not sorted by component id, or one id twice",
                        ),
                        at,
                    ))
                }
            }
        }
    };
}

sorted_components!(
    /// `AppDataDictionary`: the body of the `app_data_dictionary` extension
    /// (GroupContext, GroupInfo, KeyPackage, LeafNode).
    AppDataDictionary,
    component_data,
    ComponentData,
    "AppDataDictionary"
);

sorted_components!(
    /// `SafeAAD`: the framing of `authenticated_data` in a group whose
    /// GroupContext has the `safe_aad` component.
    SafeAad,
    aad_items,
    SafeAadItem,
    "SafeAAD"
);

impl AppDataDictionary {
    /// The data of `component_id`, if present.
    pub fn get(&self, component_id: ComponentId) -> Option<&[u8]> {
        self.entry(component_id).map(|c| c.data.as_slice())
    }

    /// This dictionary as an `app_data_dictionary` extension.
    pub fn to_extension(&self) -> Result<Extension> {
        Ok(Extension {
            extension_type: ExtensionType::APP_DATA_DICTIONARY,
            extension_data: self.to_bytes()?,
        })
    }
}

impl SafeAad {
    /// The authenticated data of `component_id`, if present.
    pub fn get(&self, component_id: ComponentId) -> Option<&[u8]> {
        self.entry(component_id).map(|i| i.aad_item_data.as_slice())
    }
}

wire_struct! {
    /// `ComponentsList`: the data of the `app_components` and `safe_aad`
    /// components (supported ones in a leaf, required ones in the
    /// GroupContext).
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct ComponentsList {
        /// The component ids.
        pub component_ids: Vec<ComponentId>,
    }
}

/// Sets `component_id`'s entry of the `app_data_dictionary` extension in
/// `extensions` to `data` (only if absent when `replace` is false), adding
/// the extension at the end if there is none. Fails if an existing
/// extension does not decode.
pub fn put_component(
    extensions: &mut Vec<Extension>,
    component_id: ComponentId,
    data: Vec<u8>,
    replace: bool,
) -> Result<()> {
    let at = extensions
        .iter()
        .position(|e| e.extension_type == ExtensionType::APP_DATA_DICTIONARY);
    let mut dictionary = match at {
        Some(i) => AppDataDictionary::parse(&extensions[i].extension_data)?,
        None => AppDataDictionary::default(),
    };
    let entries = &mut dictionary.component_data;
    match entries.binary_search_by_key(&component_id, |c| c.component_id) {
        Ok(i) if replace => entries[i].data = data,
        Ok(_) => {}
        Err(i) => entries.insert(i, ComponentData { component_id, data }),
    }
    let extension = dictionary.to_extension()?;
    match at {
        Some(i) => extensions[i] = extension,
        None => extensions.push(extension),
    }
    Ok(())
}

/// Whether `extensions` hold an `app_data_dictionary` with an entry for
/// `component_id`. An extension that does not decode holds none.
pub fn has_component(extensions: &[Extension], component_id: ComponentId) -> bool {
    crate::types::extensions::find_extension(extensions, ExtensionType::APP_DATA_DICTIONARY)
        .and_then(|e| AppDataDictionary::parse(&e.extension_data).ok())
        .is_some_and(|d| d.get(component_id).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_aad_is_sorted_unique_and_encodes_as_the_draft_says() {
        let aad = SafeAad::new(vec![
            SafeAadItem {
                component_id: 2,
                aad_item_data: b"a".to_vec(),
            },
            SafeAadItem {
                component_id: 0x8001,
                aad_item_data: vec![],
            },
        ])
        .unwrap();
        // aad_items<V>: length 6, then (uint16, opaque<V>) per item.
        let bytes = aad.to_bytes().unwrap();
        assert_eq!(bytes, [7, 0, 2, 1, b'a', 0x80, 0x01, 0]);
        assert_eq!(SafeAad::parse(&bytes).unwrap(), aad);
        assert_eq!(aad.get(2), Some(&b"a"[..]));
        assert_eq!(aad.get(3), None);
        // An empty SafeAAD is a zero-length vector.
        assert_eq!(SafeAad::default().to_bytes().unwrap(), [0]);
        // Unsorted or repeated ids are refused, built or decoded.
        let swapped = [7, 0x80, 0x01, 0, 0, 2, 1, b'a'];
        assert!(SafeAad::parse(&swapped).is_err());
        let twice = [6, 0, 2, 0, 0, 2, 0];
        assert!(SafeAad::parse(&twice).is_err());
        assert!(
            SafeAad::new(vec![
                SafeAadItem {
                    component_id: 5,
                    aad_item_data: vec![]
                };
                2
            ])
            .is_err()
        );
    }

    #[test]
    fn app_data_dictionary_refuses_unsorted_entries() {
        let entry = |id| ComponentData {
            component_id: id,
            data: vec![],
        };
        let d = AppDataDictionary::new(vec![entry(1), entry(4)]).unwrap();
        assert_eq!(d.get(4), Some(&[][..]));
        assert!(AppDataDictionary::new(vec![entry(4), entry(1)]).is_err());
        let ext = d.to_extension().unwrap();
        assert_eq!(ext.extension_type, ExtensionType::APP_DATA_DICTIONARY);
        assert_eq!(AppDataDictionary::parse(&ext.extension_data).unwrap(), d);
    }

    #[test]
    fn put_component_keeps_the_dictionary_sorted() {
        let mut extensions = Vec::new();
        put_component(&mut extensions, 4, vec![], false).unwrap();
        put_component(&mut extensions, 1, b"x".to_vec(), false).unwrap();
        put_component(&mut extensions, 4, b"y".to_vec(), false).unwrap();
        assert_eq!(extensions.len(), 1);
        let d = AppDataDictionary::parse(&extensions[0].extension_data).unwrap();
        assert_eq!(d.get(1), Some(&b"x"[..]));
        assert_eq!(d.get(4), Some(&[][..]));
        assert!(has_component(&extensions, 4) && !has_component(&extensions, 2));
    }
}
