/**
 * The hosts whose links the unfurler previews: exact host names, no wildcards (a subdomain is a
 * host of its own). The plugin's `hosts` asks for these at install; an admin grants some or all
 * (`npm run plugin:install -- plugins/link-unfurler --host …`), and a host not granted is never
 * reached: the sandbox's fetch refuses it. Edit this list and install again to change it.
 */
export const HOSTS = ["github.com", "en.wikipedia.org", "developer.mozilla.org"];
