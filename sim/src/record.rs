//! Recording a model's ports, cycle by cycle, for a second simulator (`memento xsim`).
//!
//! [`arm`] asks that the next [`Model`](crate::Model) created on this thread record the value of
//! every port (but the clock) just before each rising edge, for its first `cycles` edges: the
//! inputs as the harness left them and the outputs they settle to. When that model is dropped its
//! [`Recording`] is kept for [`take`].

use crate::Port;
use std::cell::RefCell;

/// Every port's value on every recorded cycle, as little-endian 32-bit words.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The model's name (its design variant).
    pub design: &'static str,
    pub inputs: Vec<Port>,
    pub outputs: Vec<Port>,
    pub cycles: usize,
    /// `cycles` rows of the inputs' words, each port `width.div_ceil(32)` words, in `inputs` order.
    pub input_words: Vec<u32>,
    pub output_words: Vec<u32>,
}

/// 32-bit words of one port's value.
pub fn words_of(p: &Port) -> usize {
    p.width.div_ceil(32) as usize
}

impl Recording {
    fn row_len(ports: &[Port]) -> usize {
        ports.iter().map(words_of).sum()
    }

    pub fn input_row(&self, cycle: usize) -> &[u32] {
        let n = Self::row_len(&self.inputs);
        &self.input_words[cycle * n..(cycle + 1) * n]
    }

    pub fn output_row(&self, cycle: usize) -> &[u32] {
        let n = Self::row_len(&self.outputs);
        &self.output_words[cycle * n..(cycle + 1) * n]
    }

    /// One port's words out of a row.
    pub fn split<'a>(ports: &[Port], row: &'a [u32]) -> Vec<&'a [u32]> {
        let mut at = 0;
        ports
            .iter()
            .map(|p| {
                let w = &row[at..at + words_of(p)];
                at += words_of(p);
                w
            })
            .collect()
    }
}

/// A recording in progress, inside its model.
pub(crate) struct Recorder {
    pub(crate) rec: Recording,
    pub(crate) limit: usize,
}

impl Recorder {
    pub(crate) fn new(vt: &'static crate::VTable, limit: usize) -> Self {
        let (inputs, outputs): (Vec<Port>, Vec<Port>) = vt
            .ports
            .iter()
            .filter(|p| p.name != "clock")
            .partition(|p| p.input);
        Recorder {
            rec: Recording {
                design: vt.name,
                inputs,
                outputs,
                cycles: 0,
                input_words: vec![],
                output_words: vec![],
            },
            limit,
        }
    }

    /// Appends the ports' values now (the model has just settled); the caller asks
    /// [`Recorder::wants_more`] first.
    pub(crate) fn sample(&mut self, mut peek: impl FnMut(Port, &mut [u32])) {
        let mut buf = vec![0u32; 2];
        for (ports, out) in [
            (&self.rec.inputs, &mut self.rec.input_words),
            (&self.rec.outputs, &mut self.rec.output_words),
        ] {
            for p in ports.iter() {
                let n = words_of(p);
                buf.resize(n.max(2), 0);
                peek(*p, &mut buf);
                out.extend_from_slice(&buf[..n]);
            }
        }
        self.rec.cycles += 1;
    }

    pub(crate) fn wants_more(&self) -> bool {
        self.rec.cycles < self.limit
    }
}

thread_local! {
    static ARMED: RefCell<Option<usize>> = const { RefCell::new(None) };
    static DONE: RefCell<Option<Recording>> = const { RefCell::new(None) };
}

/// The next model created on this thread records its first `cycles` cycles.
pub fn arm(cycles: usize) {
    ARMED.with(|a| *a.borrow_mut() = Some(cycles));
    DONE.with(|d| *d.borrow_mut() = None);
}

pub(crate) fn take_arm() -> Option<usize> {
    ARMED.with(|a| a.borrow_mut().take())
}

pub(crate) fn finished(rec: Recording) {
    DONE.with(|d| *d.borrow_mut() = Some(rec));
}

/// The recording of the last recording model dropped on this thread.
pub fn take() -> Option<Recording> {
    DONE.with(|d| d.borrow_mut().take())
}
