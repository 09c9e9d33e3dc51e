// smnb browser microphone: capture with getUserMedia, convert to 16 kHz mono
// int16 in an AudioWorklet, and send one binary comm message per chunk (100 ms)
// to the kernel, where smnb.widgets.browser_mic turns them into an AudioSource.
//
// Messages to the kernel (model.send): {type: "rendered"}, {type: "started",
// native_rate}, {type: "audio", seq, rate, t} + one ArrayBuffer, {type: "stopped",
// seq}, {type: "error", message}. Commands from the kernel (msg:custom):
// {cmd: "start"} and {cmd: "stop"}.
// Only anywidget >= 0.9 front-end API is used (model.get/on/send), so this runs
// in JupyterLab/Notebook 7 and in Colab's custom widget manager.

const WORKLET = `
class SmnbPcm extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = options.processorOptions;
    this.ratio = sampleRate / o.targetRate;  // sampleRate: the worklet global
    this.chunk = o.chunkSamples;
    this.out = new Int16Array(this.chunk);
    this.n = 0;
    this.acc = 0;
    this.cnt = 0;
    this.seen = 0;
    this.next = this.ratio;
    this.peak = 0;
    // Anti-alias: a 2nd-order low-pass (RBJ) below the target Nyquist, then a box
    // average over each output sample's span of input samples.
    this.lp = this.ratio > 1.0001;
    if (this.lp) {
      const f = 0.45 * o.targetRate, q = Math.SQRT1_2;
      const w = 2 * Math.PI * f / sampleRate, a = Math.sin(w) / (2 * q), c = Math.cos(w);
      const a0 = 1 + a;
      this.b0 = (1 - c) / 2 / a0; this.b1 = (1 - c) / a0; this.b2 = this.b0;
      this.a1 = -2 * c / a0; this.a2 = (1 - a) / a0;
      this.x1 = 0; this.x2 = 0; this.y1 = 0; this.y2 = 0;
    }
    this.port.onmessage = (e) => { if (e.data === "flush") this.flush(); };
  }
  emit(done) {
    const pcm = this.n === this.chunk ? this.out : this.out.slice(0, this.n);
    if (this.n > 0) this.port.postMessage({ pcm: pcm.buffer, peak: this.peak }, [pcm.buffer]);
    this.out = new Int16Array(this.chunk);
    this.n = 0;
    this.peak = 0;
    if (done) this.port.postMessage({ done: true });
  }
  flush() { this.emit(true); }
  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0) return true;
    const ch = input[0];
    for (let k = 0; k < ch.length; k++) {
      let x = ch[k];
      if (this.lp) {
        const y = this.b0 * x + this.b1 * this.x1 + this.b2 * this.x2 - this.a1 * this.y1 - this.a2 * this.y2;
        this.x2 = this.x1; this.x1 = x; this.y2 = this.y1; this.y1 = y; x = y;
      }
      this.acc += x; this.cnt += 1; this.seen += 1;
      if (this.seen >= this.next) {
        let v = this.acc / this.cnt;
        v = v > 1 ? 1 : v < -1 ? -1 : v;
        const s = Math.round(v * 32767);
        this.out[this.n++] = s;
        const m = s < 0 ? -s : s;
        if (m > this.peak) this.peak = m;
        this.acc = 0; this.cnt = 0; this.next += this.ratio;
        if (this.n === this.chunk) this.emit(false);
      }
    }
    return true;
  }
}
registerProcessor("smnb-pcm", SmnbPcm);
`;

// One capture per widget, shared by all its views: a widget shown twice must not send the
// audio twice, and a view re-rendered while recording (its output rewritten) must find the
// capture running. Keyed by the widget's own synced `key`, in maps on the window: the model
// object a view receives, and even this module, may be new for each render.
const registry = (name) => (window[name] = window[name] || new Map());
const captures = registry("__smnbMicCaptures");
const allViews = registry("__smnbMicViews");
const keyOf = (model) => model.get("key");

async function startCapture(model, views) {
  const key = keyOf(model);
  if (captures.has(key)) return;
  // cap.model: the newest view's model, through which the audio goes to the kernel.
  const cap = { stopping: false, seq: 0, samples: 0, model };
  captures.set(key, cap);
  const say = (text, cls) => views.forEach((v) => v.setStatus(text, cls));
  const fail = (message) => {
    captures.delete(key);
    say(message, "error");
    views.forEach((v) => v.setRecording(false));
    cap.model.send({ type: "error", message });
  };
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    fail("this page cannot use a microphone (it needs https or localhost)");
    return;
  }
  say("asking for the microphone…");
  try {
    cap.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
  } catch (err) {
    fail(`microphone refused or missing (${err.name}: ${err.message})`);
    return;
  }
  try {
    const targetRate = model.get("sample_rate");
    const chunkSamples = Math.round((targetRate * model.get("chunk_ms")) / 1000);
    cap.ctx = new AudioContext();
    if (cap.ctx.state !== "running") await cap.ctx.resume();
    const url = URL.createObjectURL(new Blob([WORKLET], { type: "application/javascript" }));
    await cap.ctx.audioWorklet.addModule(url);
    URL.revokeObjectURL(url);
    cap.node = new AudioWorkletNode(cap.ctx, "smnb-pcm", {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      channelCount: 1,
      channelCountMode: "explicit", // the browser down-mixes to mono
      processorOptions: { targetRate, chunkSamples },
    });
    const src = cap.ctx.createMediaStreamSource(cap.stream);
    const mute = cap.ctx.createGain();
    mute.gain.value = 0; // keep the graph pulling without playing the mic back
    src.connect(cap.node);
    cap.node.connect(mute).connect(cap.ctx.destination);
    cap.node.port.onmessage = (e) => {
      if (e.data.pcm) {
        cap.samples += e.data.pcm.byteLength / 2;
        cap.model.send({ type: "audio", seq: cap.seq++, rate: targetRate, t: Date.now() }, undefined, [e.data.pcm]);
        views.forEach((v) => v.setLevel(e.data.peak / 32767));
      }
      if (e.data.done) finishCapture(key, views);
    };
    cap.model.send({ type: "started", native_rate: cap.ctx.sampleRate });
    say(`recording (${cap.ctx.sampleRate} Hz → ${targetRate} Hz)`, "recording");
    views.forEach((v) => v.setRecording(true));
    if (cap.stopping) cap.node.port.postMessage("flush"); // stop clicked during set-up
  } catch (err) {
    cap.stream.getTracks().forEach((t) => t.stop());
    fail(`audio setup failed (${err.name}: ${err.message})`);
  }
}

function stopCapture(model) {
  const cap = captures.get(keyOf(model));
  if (!cap || cap.stopping) return;
  cap.stopping = true;
  // The worklet answers {done} after its last samples; during set-up, startCapture
  // flushes as soon as the node exists.
  if (cap.node) cap.node.port.postMessage("flush");
}

function finishCapture(key, views) {
  const cap = captures.get(key);
  if (!cap) return;
  captures.delete(key);
  cap.stream.getTracks().forEach((t) => t.stop());
  cap.ctx.close();
  cap.model.send({ type: "stopped", seq: cap.seq });
  views.forEach((v) => {
    v.setRecording(false);
    v.setLevel(0);
    v.setStatus(`stopped after ${(cap.samples / cap.model.get("sample_rate")).toFixed(1)} s`);
  });
}

function render({ model, el }) {
  smnbKeepFocus(); // keep_focus.js, prepended by the kernel side
  const root = document.createElement("div");
  root.className = "smnb-mic";
  const button = document.createElement("button");
  button.className = "smnb-mic-button";
  const meter = document.createElement("div");
  meter.className = "smnb-mic-meter";
  const bar = document.createElement("div");
  bar.className = "smnb-mic-bar";
  meter.appendChild(bar);
  const status = document.createElement("span");
  status.className = "smnb-mic-status";
  const note = document.createElement("div");
  note.className = "smnb-mic-message";
  root.append(button, meter, status, note);
  el.appendChild(root);

  const key = keyOf(model);
  if (!allViews.has(key)) allViews.set(key, new Set());
  const views = allViews.get(key);
  if (captures.has(key)) captures.get(key).model = model; // re-rendered while recording
  const view = {
    setStatus(text, cls) {
      status.textContent = text;
      status.dataset.state = cls || "";
    },
    setLevel(x) {
      bar.style.width = `${Math.min(100, Math.round(Math.sqrt(x) * 100))}%`;
    },
    setRecording(on) {
      button.textContent = on ? "■ Stop microphone" : "▶ Start microphone";
      button.dataset.recording = on ? "1" : "";
      // Once its session has ended this widget cannot start another one (the kernel side
      // has no session to feed): run the cell again for a new microphone.
      const ended = !on && model.get("ended");
      button.disabled = ended;
      button.title = ended ? "This session has ended: run the cell again to record more" : "";
    },
  };
  views.add(view);
  view.setRecording(captures.has(key));
  const idle = () => (model.get("ended") ? "session ended" : "idle");
  view.setStatus(captures.has(key) ? "recording" : idle());
  const showEnded = () => {
    view.setRecording(captures.has(key));
    if (!captures.has(key) && model.get("ended")) view.setStatus("session ended");
  };
  model.on("change:ended", showEnded);

  const showMessage = () => { note.textContent = model.get("message"); };
  showMessage();
  model.on("change:message", showMessage);

  button.addEventListener("click", () => {
    if (captures.has(key)) stopCapture(model);
    else if (!model.get("ended")) startCapture(model, views);
  });
  const onCustom = (msg) => {
    if (msg && msg.cmd === "start") startCapture(model, views);
    else if (msg && msg.cmd === "stop") stopCapture(model);
  };
  model.on("msg:custom", onCustom);
  model.send({ type: "rendered" });

  return () => {
    views.delete(view);
    model.off("change:message", showMessage);
    model.off("change:ended", showEnded);
    model.off("msg:custom", onCustom);
  };
}

export default { render };
