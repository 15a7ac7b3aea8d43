//! Content advertisement (draft-ietf-mls-extensions, "Content
//! Advertisement"): which media types each member accepts, whether every
//! member can read a type, and the `ApplicationFraming` of application
//! messages in a group whose GroupContext lists the media types it
//! requires; and acknowledgements (AppAck) sent as AppEphemeral.

use crate::api::group::Group;
use crate::codec::encode;
use crate::crypto::component::component_ids::{APP_ACK, CONTENT_MEDIA_TYPES};
use crate::tree::leaf_node::LeafNode;
use crate::types::app_data::AppDataDictionary;
use crate::types::content_media::{AppAck, ApplicationFraming, MediaType, MediaTypeList};
use crate::types::extensions::{ExtensionType, find_extension};
use crate::types::math::LeafIndex;
use crate::{Error, Result};

/// The `content_media_types` of a leaf, if it advertises a list that
/// decodes.
pub(crate) fn leaf_media_types(leaf: &LeafNode) -> Option<MediaTypeList> {
    find_extension(&leaf.extensions, ExtensionType::APP_DATA_DICTIONARY)
        .and_then(|e| AppDataDictionary::parse(&e.extension_data).ok())
        .and_then(|d| {
            d.get(CONTENT_MEDIA_TYPES)
                .and_then(|b| crate::codec::decode_exact::<MediaTypeList>(b).ok())
        })
}

impl Group {
    /// The media types the member at `leaf` advertises (its
    /// `content_media_types`), or `None` if it advertises none.
    pub fn member_media_types(&self, leaf: LeafIndex) -> Option<MediaTypeList> {
        self.state.tree().leaf(leaf).and_then(leaf_media_types)
    }

    /// The media types the group requires (the GroupContext's
    /// `content_media_types`), or `None`: then application data is not
    /// framed.
    pub fn required_media_types(&self) -> Result<Option<MediaTypeList>> {
        let Some(dictionary) = self.app_data_dictionary()? else {
            return Ok(None);
        };
        dictionary
            .get(CONTENT_MEDIA_TYPES)
            .map(|b| {
                crate::codec::decode_exact::<MediaTypeList>(b)
                    .map_err(|e| Error::malformed("content_media_types", e))
            })
            .transpose()
    }

    /// The members that do not advertise `media_type` (including those
    /// that advertise no media types at all), in leaf order: empty when
    /// every member can read it.
    pub fn members_not_accepting(&self, media_type: &MediaType) -> Vec<LeafIndex> {
        self.state
            .tree()
            .members()
            .filter(|(_, l)| !leaf_media_types(l).is_some_and(|m| m.accepts(media_type)))
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether every member advertises `media_type`: "can every member
    /// read type T".
    pub fn all_members_accept(&self, media_type: &MediaType) -> bool {
        self.members_not_accepting(media_type).is_empty()
    }

    /// Encrypts `content` of `media_type` framed as `ApplicationFraming`,
    /// the form application data takes in a group whose GroupContext has
    /// `content_media_types`. An empty type stands for the group's first
    /// media type. Refused ([`Error::Misuse`]) in a group without
    /// `content_media_types`, or when some member does not advertise the
    /// type (nothing is sent).
    pub fn encrypt_framed(
        &mut self,
        media_type: &MediaType,
        content: &[u8],
        authenticated_data: &[u8],
    ) -> Result<Vec<u8>> {
        let required = self.required_media_types()?.ok_or_else(|| {
            Error::Misuse(
                "the group has no content_media_types: its application data is not framed".into(),
            )
        })?;
        let effective = if media_type.media_type.is_empty() {
            &required.media_types()[0]
        } else {
            media_type
        };
        let missing = self.members_not_accepting(effective);
        if !missing.is_empty() {
            return Err(Error::Misuse(format!(
                "members {missing:?} do not advertise media type {:?}",
                String::from_utf8_lossy(&effective.media_type)
            )));
        }
        let framed = encode(&ApplicationFraming {
            media_type: media_type.clone(),
            inner_application_content: content.to_vec(),
        })?;
        self.encrypt(&framed, authenticated_data)
    }

    /// Reads received `application_data` as `ApplicationFraming`: its media
    /// type (an empty one resolved to the group's first media type, as the
    /// draft says) and inner content. Fails with [`Error::Malformed`] if
    /// it does not decode, and [`Error::Misuse`] in a group without
    /// `content_media_types`.
    pub fn read_framed(&self, application_data: &[u8]) -> Result<(MediaType, Vec<u8>)> {
        let required = self.required_media_types()?.ok_or_else(|| {
            Error::Misuse(
                "the group has no content_media_types: its application data is not framed".into(),
            )
        })?;
        let framed: ApplicationFraming = crate::codec::decode_exact(application_data)
            .map_err(|e| Error::malformed("ApplicationFraming", e))?;
        let media_type = if framed.media_type.media_type.is_empty() {
            required.media_types()[0].clone()
        } else {
            framed.media_type
        };
        Ok((media_type, framed.inner_application_content))
    }

    /// Proposes an AppAck (an AppEphemeral of the `app_ack` component):
    /// the application messages received in this epoch. Like any
    /// AppEphemeral, every member must list `app_ack` in its
    /// `app_components` and the application's logic must know it.
    pub fn propose_app_ack(&mut self, ack: &AppAck) -> Result<Vec<u8>> {
        self.propose_app_ephemeral(APP_ACK, encode(ack)?)
    }

    /// §Content Advertisement: "MLS clients SHOULD NOT add an MLS client to
    /// an MLS group with `content_media_types` in its GroupContext unless
    /// all the members ... advertise support for all the required media
    /// types". Checked for the leaf of a key package we are about to add.
    pub(crate) fn check_joiner_media_types(&self, leaf: &LeafNode) -> Result<()> {
        let Some(required) = self.required_media_types()? else {
            return Ok(());
        };
        let advertised = leaf_media_types(leaf);
        if let Some(m) = required
            .media_types()
            .iter()
            .find(|m| !advertised.as_ref().is_some_and(|a| a.accepts(m)))
        {
            return Err(Error::Misuse(format!(
                "the key package does not advertise media type {:?}, which the group requires",
                String::from_utf8_lossy(&m.media_type)
            )));
        }
        Ok(())
    }
}
