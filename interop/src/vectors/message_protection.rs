//! message-protection.json: PublicMessage and PrivateMessage protection of a
//! proposal, a commit and application data, sent by leaf 1 of 2 (§6).

use arbor_mls::codec::decode_exact;
use arbor_mls::crypto::{OsRandom, Secret, SignaturePrivateKey, SignaturePublicKey, Suite};
use arbor_mls::framing::{
    self, AuthenticatedContent, Content, FramedContent, MlsMessage, MlsMessageBody, Sender,
    WireFormat,
};
use arbor_mls::messages::commit::Commit;
use arbor_mls::messages::proposals::Proposal;
use arbor_mls::schedule::{GroupContext, SecretTree, SecretTreeConfig};
use arbor_mls::types::ProtocolVersion;
use arbor_mls::types::math::{LeafCount, LeafIndex};
use serde_json::Value;

use super::Outcome;
use super::util::{Check, eq, hex, outcome, private_key, uint};
use crate::suite_or_return;

struct Fixture {
    suite: Suite,
    context: GroupContext,
    sign_priv: SignaturePrivateKey,
    sign_pub: SignaturePublicKey,
    encryption_secret: Vec<u8>,
    sender_data_secret: Secret,
    membership_key: Secret,
}

impl Fixture {
    fn secret_tree(&self) -> Check<SecretTree> {
        let leaves = LeafCount::new(2).ok_or("leaf count")?;
        Ok(SecretTree::new(
            &self.suite,
            Secret::from_slice(&self.encryption_secret),
            leaves,
            SecretTreeConfig::default(),
        ))
    }

    fn framed(&self, content: Content) -> FramedContent {
        FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member(LeafIndex(1)),
            authenticated_data: Vec::new(),
            content,
        }
    }

    fn sign(&self, wire_format: WireFormat, content: Content) -> Check<AuthenticatedContent> {
        let mut signed = framing::sign_content(
            &self.suite,
            wire_format,
            self.framed(content),
            &self.context,
            &self.sign_priv,
        )
        .map_err(|e| format!("signing: {e}"))?;
        if let Content::Commit(_) = signed.content.content {
            // Any tag will do: only the framing is under test.
            signed.auth.confirmation_tag = Some(vec![0xa5; self.suite.hash_len()]);
        }
        Ok(signed)
    }

    /// Opens a PublicMessage and returns its verified content.
    fn open_public(&self, what: &str, bytes: &[u8]) -> Check<Content> {
        let msg: MlsMessage =
            decode_exact(bytes).map_err(|e| format!("{what}: does not decode: {e}"))?;
        let MlsMessageBody::PublicMessage(public) = msg.body else {
            return Err(format!("{what}: not a PublicMessage"));
        };
        let content =
            framing::from_public_message(&self.suite, *public, &self.membership_key, &self.context)
                .map_err(|e| format!("{what}: {e}"))?;
        framing::verify_content(&self.suite, &content, &self.context, &self.sign_pub)
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(content.content.content)
    }

    /// Decrypts a PrivateMessage with a fresh secret tree and returns its
    /// verified content.
    fn open_private(&self, what: &str, bytes: &[u8]) -> Check<Content> {
        let msg: MlsMessage =
            decode_exact(bytes).map_err(|e| format!("{what}: does not decode: {e}"))?;
        let MlsMessageBody::PrivateMessage(private) = msg.body else {
            return Err(format!("{what}: not a PrivateMessage"));
        };
        let mut tree = self.secret_tree()?;
        let content =
            framing::decrypt_private(&self.suite, &private, &mut tree, &self.sender_data_secret)
                .map_err(|e| format!("{what}: {e}"))?;
        eq(
            &format!("{what} sender"),
            content.content.sender,
            Sender::Member(LeafIndex(1)),
        )?;
        framing::verify_content(&self.suite, &content, &self.context, &self.sign_pub)
            .map_err(|e| format!("{what}: {e}"))?;
        Ok(content.content.content)
    }

    /// Protects `content` as a PublicMessage and opens it again.
    fn public_roundtrip(&self, what: &str, content: &Content) -> Check {
        let signed = self.sign(WireFormat::PUBLIC_MESSAGE, content.clone())?;
        let public =
            framing::to_public_message(&self.suite, signed, &self.membership_key, &self.context)
                .map_err(|e| format!("{what}: protecting: {e}"))?;
        let bytes = arbor_mls::codec::encode(&MlsMessage::new(MlsMessageBody::PublicMessage(
            Box::new(public),
        )))
        .map_err(|e| e.to_string())?;
        let opened = self.open_public(what, &bytes)?;
        eq(what, &opened, content)
    }

    /// Protects `content` as a PrivateMessage and opens it again.
    fn private_roundtrip(&self, what: &str, content: &Content) -> Check {
        let signed = self.sign(WireFormat::PRIVATE_MESSAGE, content.clone())?;
        let mut tree = self.secret_tree()?;
        let private = framing::encrypt_private(
            &self.suite,
            &signed,
            &mut tree,
            &self.sender_data_secret,
            7,
            &mut OsRandom,
        )
        .map_err(|e| format!("{what}: protecting: {e}"))?;
        let bytes = arbor_mls::codec::encode(&MlsMessage::new(MlsMessageBody::PrivateMessage(
            Box::new(private),
        )))
        .map_err(|e| e.to_string())?;
        let opened = self.open_private(what, &bytes)?;
        eq(what, &opened, content)
    }
}

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    let suite = suite_or_return!(case);
    outcome((|| {
        let fx = Fixture {
            context: GroupContext {
                version: ProtocolVersion::MLS10,
                cipher_suite: suite.id(),
                group_id: hex(case, "group_id")?,
                epoch: uint(case, "epoch")?,
                tree_hash: hex(case, "tree_hash")?,
                confirmed_transcript_hash: hex(case, "confirmed_transcript_hash")?,
                extensions: Vec::new(),
            },
            sign_priv: SignaturePrivateKey(Secret::new(private_key(
                case,
                "signature_priv",
                &suite,
            )?)),
            sign_pub: SignaturePublicKey(hex(case, "signature_pub")?),
            encryption_secret: hex(case, "encryption_secret")?,
            sender_data_secret: Secret::new(hex(case, "sender_data_secret")?),
            membership_key: Secret::new(hex(case, "membership_key")?),
            suite,
        };

        let proposal: Proposal = decode_exact(&hex(case, "proposal")?)
            .map_err(|e| format!("proposal does not decode: {e}"))?;
        let proposal = Content::Proposal(Box::new(proposal));
        let commit: Commit = decode_exact(&hex(case, "commit")?)
            .map_err(|e| format!("commit does not decode: {e}"))?;
        let commit = Content::Commit(Box::new(commit));
        let application = Content::Application(hex(case, "application")?);

        for (name, content) in [("proposal", &proposal), ("commit", &commit)] {
            let opened =
                fx.open_public(&format!("{name}_pub"), &hex(case, &format!("{name}_pub"))?)?;
            eq(&format!("{name}_pub content"), &opened, content)?;
            fx.public_roundtrip(&format!("{name} as PublicMessage"), content)?;
        }
        // §6.2: application data cannot be protected as a PublicMessage.
        let signed = fx.sign(WireFormat::PUBLIC_MESSAGE, application.clone())?;
        if framing::to_public_message(&fx.suite, signed, &fx.membership_key, &fx.context).is_ok() {
            return Err("application data was protected as a PublicMessage".into());
        }
        for (name, content) in [
            ("proposal", &proposal),
            ("commit", &commit),
            ("application", &application),
        ] {
            let field = format!("{name}_priv");
            let opened = fx.open_private(&field, &hex(case, &field)?)?;
            eq(&format!("{field} content"), &opened, content)?;
            fx.private_roundtrip(&format!("{name} as PrivateMessage"), content)?;
        }
        Ok(Outcome::Pass)
    })())
}
