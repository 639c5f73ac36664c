// <fannotate-app> for host pages: loads the WebAssembly app once and mounts it into
// every element. Attributes: persistence-key, endpoint, model, theme
// (light | dark | auto), start-view (data | codebook | endpoint | experiments | run | review | results),
// and shadow (mount inside the element's own shadow root, isolated from the
// page's styles). Removing the element unmounts it.
//
// The element's `ready` promise resolves when the app takes calls (as the
// `fannotate:ready` event fires); its `loadRows()` and `exportAnnotations()` wait
// for it. For hosts that prefer code: `mount(element, options)` returns a handle
// with `ready`, `unmount()`, `loadRows(rows, {textField, idField, name, project,
// replace, goldField, goldFields})` (resolves to the project's id),
// `listProjects()`, `openProject(id)` and `exportAnnotations()`. The app dispatches `fannotate:ready`, `fannotate:annotation`,
// `fannotate:run-progress`, `fannotate:run-finished` and `fannotate:error`
// events on the element (they bubble and cross shadow roots).
import init, { mount as mountWasm } from './fannotate.js';

const base = new URL('.', import.meta.url);
const cssHref = new URL('app.css', base).href;
let ready = null;

/** Per root (the document or a shadow root): the promise that its stylesheet has loaded. */
const cssLoaded = new WeakMap();

/**
 * The app's stylesheet in `root` (the document or a shadow root), once; resolves when it
 * has loaded. The app mounts only then, so it never shows (or is measured) unstyled.
 */
function ensureCss(root) {
  const target = root instanceof ShadowRoot ? root : document.head;
  const key = root instanceof ShadowRoot ? root : document;
  if (!cssLoaded.has(key)) {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = cssHref;
    link.dataset.fannotateCss = '';
    cssLoaded.set(key, new Promise((resolve, reject) => {
      link.addEventListener('load', () => resolve(), { once: true });
      link.addEventListener('error', () => {
        // A later mount into this root tries again.
        cssLoaded.delete(key);
        link.remove();
        reject(new Error(`Fannotate's stylesheet did not load from ${cssHref}`));
      }, { once: true });
    }));
    target.append(link);
  }
  return cssLoaded.get(key);
}

/** Load the wasm once per page. */
function load() {
  ready ??= init({ module_or_path: new URL('fannotate_bg.wasm', base) });
  return ready;
}

/** Mount the app into `element` (which may live in a shadow root). */
async function mount(element, options = {}) {
  await Promise.all([load(), ensureCss(element.getRootNode())]);
  return mountWasm(element, options);
}

class FannotateApp extends HTMLElement {
  constructor() {
    super();
    this.#newReady();
  }

  /** Resolves when the app is mounted and takes calls (as `fannotate:ready` fires). */
  get ready() {
    return this.readyPromise;
  }

  #newReady() {
    this.readyPromise = new Promise((resolve, reject) => { this.settle = { resolve, reject }; });
    // A rejection nobody awaits is not an error on the host's console.
    this.readyPromise.catch(() => {});
  }

  async connectedCallback() {
    if (this.handle || this.mounting) return;
    this.mounting = true;
    try {
      const attr = (n) => this.getAttribute(n) || undefined;
      let target = this;
      if (this.hasAttribute('shadow')) {
        const root = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
        target = root.querySelector('div[data-fannotate-root]') ?? root.appendChild(Object.assign(document.createElement('div'), {}));
        target.dataset.fannotateRoot = '';
      }
      const options = {
        persistenceKey: attr('persistence-key') ?? 'default',
        endpoint: attr('endpoint'),
        model: attr('model'),
        theme: attr('theme'),
        startView: attr('start-view'),
      };
      for (const k of Object.keys(options)) if (options[k] === undefined) delete options[k];
      const handle = await mount(target, options);
      if (!this.isConnected) {
        handle.unmount();
        handle.free();
        return;
      }
      this.handle = handle;
      handle.ready.then(() => this.settle.resolve(), (e) => this.settle.reject(e));
    } catch (e) {
      this.settle.reject(e);
      this.dispatchEvent(new CustomEvent('fannotate:error', { bubbles: true, composed: true, detail: { message: String(e?.message ?? e) } }));
    } finally {
      this.mounting = false;
    }
  }

  disconnectedCallback() {
    this.handle?.unmount();
    this.handle?.free();
    this.handle = null;
    this.settle.reject(new Error('fannotate-app was removed from the page'));
    this.#newReady();
  }

  /** Hand rows to the app (see `mount`); waits until it is ready. */
  async loadRows(rows, options) {
    await this.ready;
    return this.handle.loadRows(rows, options);
  }

  /** This instance's projects, `[{id, name, createdAt, updatedAt, sample}]`; waits until it is ready. */
  async listProjects() {
    await this.ready;
    return this.handle.listProjects();
  }

  /** Open a project by the id `loadRows` resolved to; waits until it is ready. */
  async openProject(id) {
    await this.ready;
    return this.handle.openProject(id);
  }

  /** The open project's rows with labels and provenance; waits until it is ready. */
  async exportAnnotations() {
    await this.ready;
    return this.handle.exportAnnotations();
  }
}

if (!customElements.get('fannotate-app')) customElements.define('fannotate-app', FannotateApp);
export { mount, load };
