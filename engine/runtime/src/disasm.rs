//! Disassembler: bytecode as readable text, one instruction per line, nested functions after
//! their parent. `host-rs disasm 'CELL'` prints it.

use crate::opcode::{Desc, Op, Proto};
use std::fmt::Write;

pub fn disassemble(proto: &Proto) -> String {
    let mut out = String::new();
    write_proto(&mut out, proto, "");
    out
}

fn write_proto(out: &mut String, p: &Proto, path: &str) {
    let name = if path.is_empty() {
        p.name.to_string()
    } else {
        format!("{path}/{}", p.name)
    };
    let _ = writeln!(
        out,
        "== {name} (arity {}, {} registers, {} upvalues) ==",
        p.arity,
        p.nregs,
        p.captures.len()
    );
    for (i, op) in p.code.iter().enumerate() {
        let _ = write!(out, "{i:4}  {}", describe(op));
        if let Some(note) = note(p, op) {
            let _ = write!(out, "    ; {note}");
        }
        if let Some(target) = jump_target(op, i) {
            let _ = write!(out, "    -> {target}");
        }
        out.push('\n');
    }
    for (i, child) in p.protos.iter().enumerate() {
        out.push('\n');
        write_proto(out, child, &format!("{name}#{i}"));
    }
}

/// The instruction as `Name a b c`, from its derived debug form.
fn describe(op: &Op) -> String {
    let dbg = format!("{op:?}");
    dbg.replace(" {", "")
        .replace(['}', ','], "")
        .replace(": ", "=")
}

fn jump_target(op: &Op, at: usize) -> Option<i64> {
    let off = match op {
        Op::Jump { off }
        | Op::Loop { off }
        | Op::JumpIfFalse { off, .. }
        | Op::JumpIfTrue { off, .. }
        | Op::JumpIfNotNil { off, .. }
        | Op::JumpIfNotLt { off, .. }
        | Op::JumpIfNotLe { off, .. }
        | Op::JumpIfNotGt { off, .. }
        | Op::JumpIfNotGe { off, .. }
        | Op::JumpIfNotEq { off, .. }
        | Op::JumpIfNotNe { off, .. }
        | Op::JumpIfNotCmpImm { off, .. }
        | Op::SkipIfArg { off, .. }
        | Op::TestVariant { off, .. }
        | Op::TestTuple { off, .. }
        | Op::TestList { off, .. }
        | Op::TestRange { off, .. }
        | Op::IterNext { off, .. }
        | Op::IterArray { off, .. }
        | Op::ForPrep { off, .. }
        | Op::ForNext { off, .. }
        | Op::TryBegin { off, .. } => *off,
        _ => return None,
    };
    Some(at as i64 + 1 + off as i64)
}

fn constant(v: &crate::value::Value) -> String {
    crate::display::display(v, &Default::default())
}

fn note(p: &Proto, op: &Op) -> Option<String> {
    match op {
        // (a constant is shown as the notebook shows it: a derived `Debug` of values reaches
        // every function's code and definitions, and cost the component 20 KB and more)
        Op::LoadConst { idx, .. } => p.consts.get(*idx as usize).map(constant),
        Op::ArithK { k, .. } | Op::UpdateGlobalK { k, .. } => {
            p.consts.get(*k as usize).map(constant)
        }
        Op::GetField { name, .. } | Op::CallMethod { name, .. } => {
            p.names.get(*name as usize).map(|n| n.to_string())
        }
        Op::CallMethodPlace { place, .. } => match p.descs.get(*place as usize) {
            Some(Desc::MethodPlace { place: pl, name }) => {
                let name = p.names.get(*name as usize).map_or("?", |n| n);
                Some(format!("{name} on {}{:?}", pl.name, pl.steps))
            }
            _ => None,
        },
        Op::MakeClosure { proto, .. } => p.protos.get(*proto as usize).map(|c| c.name.to_string()),
        Op::StorePlace { place, .. } | Op::LoadPlace { place, .. } => {
            match p.descs.get(*place as usize) {
                Some(Desc::Place(pl)) => Some(format!("{}{:?}", pl.name, pl.steps)),
                _ => None,
            }
        }
        _ => None,
    }
}
