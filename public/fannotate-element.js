// <fannotate-app> for host pages: loads the WebAssembly app once and mounts it into
// every element. Attributes: persistence-key, endpoint, model. The element's own
// children are replaced by the app; removing the element unmounts it.
import init, { mount } from './fannotate.js';

const base = new URL('.', import.meta.url);
let ready = null;

/** Load the app's stylesheet and wasm once per page. */
function load() {
  if (!ready) {
    if (!document.querySelector('link[data-fannotate-css]')) {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = new URL('app.css', base).href;
      link.dataset.fannotateCss = '';
      document.head.append(link);
    }
    ready = init({ module_or_path: new URL('fannotate_bg.wasm', base) });
  }
  return ready;
}

class FannotateApp extends HTMLElement {
  async connectedCallback() {
    await load();
    if (!this.isConnected || this.handle) return;
    const attr = (n) => this.getAttribute(n) || undefined;
    this.handle = mount(this, {
      persistenceKey: attr('persistence-key') ?? 'default',
      endpoint: attr('endpoint'),
      model: attr('model'),
    });
  }

  disconnectedCallback() {
    this.handle?.unmount();
    this.handle?.free();
    this.handle = null;
  }
}

if (!customElements.get('fannotate-app')) customElements.define('fannotate-app', FannotateApp);
export { mount, load };
