//! Message protection (§6.1-§6.3): signing, membership tags, and
//! PrivateMessage encryption.

use super::content::{
    AuthenticatedContent, Content, ContentType, FramedContent, FramedContentAuthData, Sender,
    WireFormat, content_len_hint, framed_content_tbs,
};
use super::messages::{
    PrivateContentAad, PrivateMessage, PrivateMessageContent, PublicMessage, ReuseGuard,
    SenderData, SenderDataAad,
};
use crate::codec::{Encode, Reader, Writer, encode, encode_with_capacity};
use crate::crypto::{RandomSource, Secret, SignaturePrivateKey, SignaturePublicKey, Suite};
use crate::schedule::{GroupContext, KeyAndNonce, RatchetType, SecretTree, sender_data_key_nonce};
use crate::types::math::LeafIndex;
use crate::{Error, Result};

/// The most padding a PrivateMessage of ours carries (`GroupConfig::padding`):
/// enough to hide any realistic message length; a stored config with more is
/// refused on load, and `encrypt` refuses more instead of allocating it.
pub const MAX_PADDING: usize = 1 << 16;

/// Label of the FramedContent signature (§6.1).
pub const FRAMED_CONTENT_LABEL: &str = "FramedContentTBS";

/// Signs `content` (§6.1). The confirmation tag of a commit depends on the
/// key schedule of the next epoch, so it is left `None` for the caller to set.
pub fn sign_content(
    suite: &Suite,
    wire_format: WireFormat,
    content: FramedContent,
    context: &GroupContext,
    key: &SignaturePrivateKey,
) -> Result<AuthenticatedContent> {
    let tbs = framed_content_tbs(wire_format, &content, Some(context))?;
    let signature = suite.sign_with_label(key, FRAMED_CONTENT_LABEL, &tbs)?;
    Ok(AuthenticatedContent {
        wire_format,
        content,
        auth: FramedContentAuthData {
            signature,
            confirmation_tag: None,
        },
    })
}

/// Verifies the signature of `content` with the sender's key (§6.1).
pub fn verify_content(
    suite: &Suite,
    content: &AuthenticatedContent,
    context: &GroupContext,
    key: &SignaturePublicKey,
) -> Result<()> {
    let tbs = content.to_be_signed(Some(context))?;
    suite
        .verify_with_label(key, FRAMED_CONTENT_LABEL, &tbs, &content.auth.signature)
        .map_err(|_| signature_error(content))
}

/// Checks the structural rules every AuthenticatedContent must meet: a
/// commit carries a confirmation tag and nothing else does (§6.1).
fn check_auth_shape(content: &AuthenticatedContent) -> Result<()> {
    let is_commit = matches!(content.content.content, Content::Commit(_));
    if is_commit != content.auth.confirmation_tag.is_some() {
        return Err(Error::Misuse(
            "a commit needs a confirmation tag and other content must not have one (RFC 9420 §6.1)"
                .into(),
        ));
    }
    Ok(())
}

/// `AuthenticatedContentTBM` (§6.2): what the membership tag covers.
fn content_tbm(content: &AuthenticatedContent, context: &GroupContext) -> Result<Vec<u8>> {
    let mut w = Writer::new();
    w.put(&content.to_be_signed(Some(context))?);
    content.auth.encode(&mut w);
    Ok(w.finish()?)
}

/// Frames signed content as a PublicMessage (§6.2), adding the membership
/// tag for member senders.
pub fn to_public_message(
    suite: &Suite,
    content: AuthenticatedContent,
    membership_key: &Secret,
    context: &GroupContext,
) -> Result<PublicMessage> {
    check_auth_shape(&content)?;
    if content.wire_format != WireFormat::PUBLIC_MESSAGE {
        return Err(Error::Misuse(
            "content was signed for another wire format".into(),
        ));
    }
    // §6.2: application data is never sent as PublicMessage.
    if let Content::Application(_) = content.content.content {
        return Err(Error::Misuse(
            "application messages MUST NOT be sent as PublicMessage (RFC 9420 §6.2)".into(),
        ));
    }
    let membership_tag = match content.content.sender {
        Sender::Member(_) => {
            Some(suite.mac(membership_key.as_bytes(), &content_tbm(&content, context)?))
        }
        _ => None,
    };
    Ok(PublicMessage {
        content: content.content,
        auth: content.auth,
        membership_tag,
    })
}

/// Opens a PublicMessage (§6.2): rejects application content and, for member
/// senders, checks the membership tag in constant time. The signature is
/// checked separately with [`verify_content`] once the sender's key is known.
pub fn from_public_message(
    suite: &Suite,
    message: PublicMessage,
    membership_key: &Secret,
    context: &GroupContext,
) -> Result<AuthenticatedContent> {
    let (content, membership_tag) = public_message_content(message)?;
    let encoding = ContentEncoding::new(&content, Some(context))?;
    encoding.check_membership_tag(suite, &content, membership_tag.as_deref(), membership_key)?;
    Ok(content)
}

/// The encodings that a received message's signature (§6.1), membership
/// tag (§6.2) and confirmed transcript hash (§8.2) all cover, made once for
/// the three: `version || wire_format || FramedContent` and the
/// GroupContext. A commit's content is O(n) bytes in a sparse tree (one
/// HPKE ciphertext per member), and each re-encoding of it cost as much as
/// hashing it.
#[derive(Debug)]
pub struct ContentEncoding {
    /// `version || wire_format || FramedContent`.
    head: Vec<u8>,
    /// The GroupContext, or nothing for senders whose `FramedContentTBS`
    /// does not include it.
    context: Vec<u8>,
}

impl ContentEncoding {
    /// Encodes `content` and, for the senders whose signature covers it,
    /// `context` (required for them).
    pub fn new(content: &AuthenticatedContent, context: Option<&GroupContext>) -> Result<Self> {
        let mut w = Writer::new();
        crate::types::ProtocolVersion::MLS10.encode(&mut w);
        content.wire_format.encode(&mut w);
        content.content.encode(&mut w);
        let head = w.finish()?;
        let context = match content.content.sender {
            Sender::Member(_) | Sender::NewMemberCommit => crate::codec::encode(context.ok_or(
                Error::Internal(
                    "FramedContentTBS for a member or new_member_commit sender needs the group context",
                ),
            )?)?,
            Sender::External(_) | Sender::NewMemberProposal => Vec::new(),
        };
        Ok(Self { head, context })
    }

    /// Bytes of content encoded: what decides whether checking it is worth
    /// a second thread.
    pub fn len(&self) -> usize {
        self.head.len()
    }

    /// True for no bytes (never: the head holds at least the version).
    pub fn is_empty(&self) -> bool {
        self.head.is_empty()
    }

    /// [`verify_content`] on this encoding of `content`.
    pub fn verify_signature(
        &self,
        suite: &Suite,
        content: &AuthenticatedContent,
        key: &SignaturePublicKey,
    ) -> Result<()> {
        suite
            .verify_with_label_parts(
                key,
                FRAMED_CONTENT_LABEL,
                &[&self.head, &self.context],
                &content.auth.signature,
            )
            .map_err(|_| signature_error(content))
    }

    /// The membership tag check of [`from_public_message`] on this encoding
    /// of `content`: a member sender's `tag` must be the MAC of
    /// `AuthenticatedContentTBM`; other senders carry none.
    pub fn check_membership_tag(
        &self,
        suite: &Suite,
        content: &AuthenticatedContent,
        tag: Option<&[u8]>,
        membership_key: &Secret,
    ) -> Result<()> {
        let Sender::Member(leaf) = content.content.sender else {
            return Ok(());
        };
        // The decoder guarantees a member's message carries a tag.
        let tag = tag.ok_or(Error::Internal(
            "member PublicMessage without membership tag",
        ))?;
        let auth = crate::codec::encode(&content.auth)?;
        suite
            .verify_mac_parts(
                membership_key.as_bytes(),
                &[&self.head, &self.context, &auth],
                tag,
            )
            .map_err(|_| {
                Error::protocol(
                    "§6.2",
                    format!(
                        "membership tag of leaf {} in epoch {} does not verify",
                        leaf.0, content.content.epoch
                    ),
                )
            })
    }

    /// `confirmed_transcript_hash` (§8.2) of a commit whose content this
    /// encodes: `Hash(interim_before || wire_format || FramedContent ||
    /// signature)`. The caller makes sure the content is a commit.
    pub fn confirmed_transcript_hash(
        &self,
        suite: &Suite,
        interim_before: &[u8],
        signature: &[u8],
    ) -> Result<Vec<u8>> {
        // Without the two bytes of the version, the head is the start of
        // ConfirmedTranscriptHashInput.
        let framed = self
            .head
            .get(2..)
            .ok_or(Error::Internal("content encoding without its version"))?;
        let mut w = Writer::new();
        w.opaque(signature);
        let signature = w.finish()?;
        Ok(suite.hash_parts(&[interim_before, framed, &signature]))
    }
}

fn signature_error(content: &AuthenticatedContent) -> Error {
    Error::protocol(
        "§6.1",
        format!(
            "signature of {:?} content from {:?} in epoch {} does not verify",
            content.content.content.content_type(),
            content.content.sender,
            content.content.epoch
        ),
    )
}

/// The checks of [`from_public_message`] that need no key: the content and
/// its membership tag, unchecked. An observer of the group, which holds no
/// membership key, stops here; members go on to check the tag.
pub fn public_message_content(
    message: PublicMessage,
) -> Result<(AuthenticatedContent, Option<Vec<u8>>)> {
    // §6.2: "the application MUST NOT use PublicMessage to send application data"
    if let Content::Application(_) = message.content.content {
        return Err(Error::protocol(
            "§6.2",
            format!(
                "application data from {:?} in a PublicMessage",
                message.content.sender
            ),
        ));
    }
    let content = AuthenticatedContent {
        wire_format: WireFormat::PUBLIC_MESSAGE,
        content: message.content,
        auth: message.auth,
    };
    Ok((content, message.membership_tag))
}

fn ratchet_for(content_type: ContentType) -> RatchetType {
    match content_type {
        ContentType::Application => RatchetType::Application,
        ContentType::Proposal | ContentType::Commit => RatchetType::Handshake,
    }
}

/// XORs the reuse guard into the first four bytes of the nonce (§6.3.1).
fn guarded_nonce(nonce: &Secret, guard: ReuseGuard) -> Secret {
    let mut out = nonce.as_bytes().to_vec();
    for (n, g) in out.iter_mut().zip(guard.0) {
        *n ^= g;
    }
    Secret::new(out)
}

/// Encrypts signed content as a PrivateMessage (§6.3) with the next key of
/// the sender's ratchet and `padding` zero bytes.
pub fn encrypt_private(
    suite: &Suite,
    content: &AuthenticatedContent,
    secret_tree: &mut SecretTree,
    sender_data_secret: &Secret,
    padding: usize,
    rng: &mut dyn RandomSource,
) -> Result<PrivateMessage> {
    // Checked before the key is taken (and again by `seal_private`, which
    // also serves keys taken elsewhere): refused content uses up no
    // generation.
    let leaf = private_sender(content)?;
    let ty = ratchet_for(content.content.content.content_type());
    let (generation, key) = secret_tree.next_key(leaf, ty)?;
    let taken = SendingKey { generation, key };
    seal_private(suite, content, &taken, sender_data_secret, padding, rng)
}

/// A key of our sending ratchet, taken with [`SecretTree::next_key`] (the
/// ratchet has moved past it) and not used yet.
pub(crate) struct SendingKey {
    /// Its generation in the ratchet.
    pub(crate) generation: u32,
    /// The key and nonce.
    pub(crate) key: KeyAndNonce,
}

/// The leaf that sends `content` as a PrivateMessage: refuses content
/// signed for another wire format, or not sent by a member.
fn private_sender(content: &AuthenticatedContent) -> Result<LeafIndex> {
    check_auth_shape(content)?;
    if content.wire_format != WireFormat::PRIVATE_MESSAGE {
        return Err(Error::Misuse(
            "content was signed for another wire format".into(),
        ));
    }
    // §6.3.2: only members have a place in the secret tree.
    match content.content.sender {
        Sender::Member(leaf) => Ok(leaf),
        _ => Err(Error::Misuse(
            "only members can send PrivateMessage (RFC 9420 §6.3.2)".into(),
        )),
    }
}

/// [`encrypt_private`] with a key already taken from the sender's ratchet
/// for `content`'s type: a caller can take the key, hand the ratchet step
/// to storage, and sign and seal while the storage syncs.
pub(crate) fn seal_private(
    suite: &Suite,
    content: &AuthenticatedContent,
    taken: &SendingKey,
    sender_data_secret: &Secret,
    padding: usize,
    rng: &mut dyn RandomSource,
) -> Result<PrivateMessage> {
    let leaf = private_sender(content)?;
    // Padding hides a message's length; more than MAX_PADDING hides nothing
    // more and costs an allocation per message, so it is refused, not
    // allocated.
    if padding > MAX_PADDING {
        return Err(Error::Misuse(format!(
            "padding of {padding} bytes exceeds the limit of {MAX_PADDING}: lower \
             GroupConfig::padding"
        )));
    }
    let (generation, key) = (taken.generation, &taken.key);
    let framed = &content.content;
    let content_type = framed.content.content_type();
    let mut guard = [0u8; 4];
    rng.fill(&mut guard)?;
    let reuse_guard = ReuseGuard(guard);

    // Each encoding below starts with room for its size, so that none
    // grows from an empty buffer: the headers, the signature and the
    // padding are fixed, the data and group id known.
    let hint = content_len_hint(framed);
    let plaintext = Secret::new(encode_with_capacity(
        &PrivateMessageContent {
            content: framed.content.clone(),
            auth: content.auth.clone(),
            padding,
        },
        hint + content.auth.signature.len() + padding + 64,
    )?);
    let aad = encode_with_capacity(
        &PrivateContentAad {
            group_id: framed.group_id.clone(),
            epoch: framed.epoch,
            content_type,
            authenticated_data: framed.authenticated_data.clone(),
        },
        framed.group_id.len() + framed.authenticated_data.len() + 24,
    )?;
    let nonce = guarded_nonce(&key.nonce, reuse_guard);
    let ciphertext = suite.aead_seal(
        key.key.as_bytes(),
        nonce.as_bytes(),
        &aad,
        plaintext.as_bytes(),
    )?;

    let sender_data = encode_with_capacity(
        &SenderData {
            leaf_index: leaf,
            generation,
            reuse_guard,
        },
        12,
    )?;
    let sender_aad = encode_with_capacity(
        &SenderDataAad {
            group_id: framed.group_id.clone(),
            epoch: framed.epoch,
            content_type,
        },
        framed.group_id.len() + 16,
    )?;
    let sd_key = sender_data_key_nonce(suite, sender_data_secret, &ciphertext)?;
    let encrypted_sender_data = suite.aead_seal(
        sd_key.key.as_bytes(),
        sd_key.nonce.as_bytes(),
        &sender_aad,
        &sender_data,
    )?;
    Ok(PrivateMessage {
        group_id: framed.group_id.clone(),
        epoch: framed.epoch,
        content_type,
        authenticated_data: framed.authenticated_data.clone(),
        encrypted_sender_data,
        ciphertext,
    })
}

/// Decrypts a PrivateMessage (§6.3) into content from a member and commits
/// the use of its key. The signature is checked separately with
/// [`verify_content`]; to consume the key only after that check, use
/// [`open_private`].
pub fn decrypt_private(
    suite: &Suite,
    message: &PrivateMessage,
    secret_tree: &mut SecretTree,
    sender_data_secret: &Secret,
) -> Result<AuthenticatedContent> {
    let (content, staged) = open_private(suite, message, secret_tree, sender_data_secret)?;
    secret_tree.commit_key(staged)?;
    Ok(content)
}

/// Decrypts the sender data of a PrivateMessage (§6.3.2): who sent it,
/// and with which generation of their ratchet.
pub fn open_sender_data(
    suite: &Suite,
    message: &PrivateMessage,
    sender_data_secret: &Secret,
) -> Result<SenderData> {
    let sender_aad = encode(&SenderDataAad {
        group_id: message.group_id.clone(),
        epoch: message.epoch,
        content_type: message.content_type,
    })?;
    let sd_key = sender_data_key_nonce(suite, sender_data_secret, &message.ciphertext)?;
    let sender_data = suite.aead_open(
        sd_key.key.as_bytes(),
        sd_key.nonce.as_bytes(),
        &sender_aad,
        &message.encrypted_sender_data,
    )?;
    crate::decode_exact("SenderData", sender_data.as_bytes())
}

/// Decrypts a PrivateMessage (§6.3) without changing the secret tree.
/// Returns the content and the staged key, to be committed with
/// [`SecretTree::commit_key`] once the content is accepted.
pub fn open_private(
    suite: &Suite,
    message: &PrivateMessage,
    secret_tree: &SecretTree,
    sender_data_secret: &Secret,
) -> Result<(AuthenticatedContent, crate::schedule::StagedKey)> {
    let sender_data = open_sender_data(suite, message, sender_data_secret)?;

    // Stage the key and commit its use only once the content decrypted and
    // decoded: a forged or corrupted message must not burn a generation.
    let staged = secret_tree.stage_key(
        sender_data.leaf_index,
        ratchet_for(message.content_type),
        sender_data.generation,
    )?;
    let nonce = guarded_nonce(&staged.key().nonce, sender_data.reuse_guard);
    let aad = encode(&PrivateContentAad {
        group_id: message.group_id.clone(),
        epoch: message.epoch,
        content_type: message.content_type,
        authenticated_data: message.authenticated_data.clone(),
    })?;
    let plaintext = suite.aead_open(
        staged.key().key.as_bytes(),
        nonce.as_bytes(),
        &aad,
        &message.ciphertext,
    )?;
    let mut r = Reader::new(plaintext.as_bytes());
    let inner = PrivateMessageContent::decode_for(&mut r, message.content_type)
        .map_err(|e| Error::malformed("PrivateMessageContent", e))?;
    let content = AuthenticatedContent {
        wire_format: WireFormat::PRIVATE_MESSAGE,
        content: FramedContent {
            group_id: message.group_id.clone(),
            epoch: message.epoch,
            sender: Sender::Member(sender_data.leaf_index),
            authenticated_data: message.authenticated_data.clone(),
            content: inner.content,
        },
        auth: inner.auth,
    };
    Ok((content, staged))
}
