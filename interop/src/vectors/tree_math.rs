//! `tree-math.json`: node count, root and the four relatives of every node.

use arbor_mls::types::math::{LeafCount, NodeIndex};
use serde_json::Value;

use super::Outcome;
use super::util::{Check, array, eq, outcome, uint};

/// Runs one entry.
pub fn run(case: &Value) -> Outcome {
    outcome(check(case).map(|()| Outcome::Pass))
}

fn check(case: &Value) -> Check {
    let n_leaves = u32::try_from(uint(case, "n_leaves")?)
        .map_err(|_| "`n_leaves` does not fit in u32".to_string())?;
    let tree = LeafCount::new(n_leaves)
        .ok_or_else(|| format!("n_leaves {n_leaves} is not a supported tree size"))?;
    eq(
        "n_nodes",
        u64::from(tree.node_width()),
        uint(case, "n_nodes")?,
    )?;
    eq("root", u64::from(tree.root().0), uint(case, "root")?)?;

    type Relative = fn(NodeIndex, LeafCount) -> Option<NodeIndex>;
    let relatives: [(&str, Relative); 4] = [
        ("left", |x, _| x.left()),
        ("right", |x, _| x.right()),
        ("parent", |x, n| x.parent(n)),
        ("sibling", |x, n| x.sibling(n)),
    ];
    for (field, relative) in relatives {
        let want = array(case, field)?;
        eq(
            &format!("length of `{field}`"),
            want.len(),
            tree.node_width() as usize,
        )?;
        for (i, w) in want.iter().enumerate() {
            let w = match w {
                Value::Null => None,
                v => Some(
                    v.as_u64()
                        .ok_or_else(|| format!("`{field}[{i}]` is not an integer or null"))?,
                ),
            };
            let x = NodeIndex(u32::try_from(i).map_err(|_| format!("node {i} out of range"))?);
            let got = relative(x, tree).map(|r| u64::from(r.0));
            eq(&format!("{field}[{i}]"), got, w)?;
        }
    }
    Ok(())
}
