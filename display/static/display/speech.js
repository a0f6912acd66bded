/* Display sound: a Web Audio chime, then the announcement spoken by the browser.
 * Announcements wait their turn (never cut off); with no voice installed the chime
 * plays alone. Nothing is fetched: the chime is synthesised, the voice is the system's. */
(function () {
  "use strict";

  const LOCALES = { id: "id-ID", en: "en-GB" };
  const queue = [];
  let ctx = null;
  let running = false;
  let enabled = true;

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function context() {
    if (!ctx) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return null;
      ctx = new Ctx();
    }
    return ctx;
  }

  /** True when the browser holds sound back until someone touches the page. */
  function blocked() {
    const c = context();
    return !!c && c.state !== "running";
  }

  /** Call from a click/key handler: lets sound play from now on. */
  async function unlock() {
    const c = context();
    if (c && c.state !== "running") {
      try {
        await c.resume();
      } catch (err) {
        /* stays blocked; the overlay stays */
      }
    }
    if (window.speechSynthesis) {
      // Speaking once from a user gesture unlocks speech in Chromium.
      const u = new SpeechSynthesisUtterance(" ");
      u.volume = 0;
      window.speechSynthesis.speak(u);
    }
    return !blocked();
  }

  /** Two soft tones, "ding-dong" (about 1.4 s). */
  async function chime() {
    const c = context();
    if (!c || c.state !== "running") return;
    const start = c.currentTime + 0.05;
    for (const [freq, at] of [[880, 0], [659.25, 0.55]]) {
      const osc = c.createOscillator();
      const gain = c.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start + at);
      gain.gain.exponentialRampToValueAtTime(0.5, start + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + at + 0.85);
      osc.connect(gain).connect(c.destination);
      osc.start(start + at);
      osc.stop(start + at + 0.9);
    }
    await sleep(1500);
  }

  function voiceFor(lang) {
    if (!window.speechSynthesis) return null;
    const want = LOCALES[lang] || lang;
    const voices = window.speechSynthesis.getVoices();
    return (
      voices.find((v) => v.lang === want) ||
      voices.find((v) => v.lang.replace("_", "-").toLowerCase().startsWith(lang + "-")) ||
      voices.find((v) => v.lang.toLowerCase() === lang) ||
      null
    );
  }

  /** Speak and wait for the end; gives up after a generous time so the queue never sticks. */
  function speak(text, lang) {
    const voice = voiceFor(lang);
    if (!voice || !text) return Promise.resolve(false);
    return new Promise((resolve) => {
      const u = new SpeechSynthesisUtterance(text);
      u.voice = voice;
      u.lang = voice.lang;
      u.rate = 0.9;
      const limit = setTimeout(() => resolve(false), 4000 + text.length * 150);
      u.onend = u.onerror = () => {
        clearTimeout(limit);
        resolve(true);
      };
      window.speechSynthesis.speak(u);
    });
  }

  async function run() {
    if (running) return;
    running = true;
    try {
      while (queue.length) {
        const item = queue.shift();
        if (!enabled) continue;
        await chime();
        for (const lang of item.langs) {
          await speak(item.texts[lang], lang);
          await sleep(300);
        }
        await sleep(500);
      }
    } finally {
      running = false;
    }
  }

  /** Queue one announcement: texts = {id: "...", en: "..."}; langs = which to speak. */
  function announce(texts, langs) {
    queue.push({ texts: texts || {}, langs: langs || ["id"] });
    run();
  }

  // -- number words, for calls learnt from a snapshot (events carry the server's text) --

  const ID_ONES = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan",
    "sepuluh", "sebelas"];
  const EN_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"];
  const EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

  function idWords(n) {
    if (n < 12) return ID_ONES[n];
    if (n < 20) return ID_ONES[n - 10] + " belas";
    if (n < 100) return ID_ONES[Math.floor(n / 10)] + " puluh" + (n % 10 ? " " + ID_ONES[n % 10] : "");
    if (n < 200) return "seratus" + (n % 100 ? " " + idWords(n % 100) : "");
    if (n < 1000) return ID_ONES[Math.floor(n / 100)] + " ratus" + (n % 100 ? " " + idWords(n % 100) : "");
    if (n < 2000) return "seribu" + (n % 1000 ? " " + idWords(n % 1000) : "");
    return idWords(Math.floor(n / 1000)) + " ribu" + (n % 1000 ? " " + idWords(n % 1000) : "");
  }

  function enWords(n) {
    if (n < 20) return EN_ONES[n];
    if (n < 100) return EN_TENS[Math.floor(n / 10)] + (n % 10 ? "-" + EN_ONES[n % 10] : "");
    if (n < 1000) return EN_ONES[Math.floor(n / 100)] + " hundred" + (n % 100 ? " and " + enWords(n % 100) : "");
    return enWords(Math.floor(n / 1000)) + " thousand" + (n % 1000 ? " " + enWords(n % 1000) : "");
  }

  /** The same sentences the server builds (satupintu/announce.py), for snapshot calls. */
  function texts(number, counterName) {
    const letter = number.slice(0, 1);
    const digits = parseInt(number.slice(1), 10);
    const words = (fn, s) => s.replace(/\d+/g, (d) => fn(parseInt(d, 10)));
    return {
      id: `Nomor antrean ${letter} ${isNaN(digits) ? number.slice(1) : idWords(digits)}, silakan menuju ${words(idWords, counterName)}`,
      en: `Ticket number ${letter} ${isNaN(digits) ? number.slice(1) : enWords(digits)}, please go to ${words(enWords, counterName)}`,
    };
  }

  window.SPSound = {
    announce, unlock, blocked, texts, chime,
    set enabled(value) { enabled = !!value; },
    get pending() { return queue.length + (running ? 1 : 0); },
    hasVoice: (lang) => !!voiceFor(lang),
  };
})();
