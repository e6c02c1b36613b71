/** Version of this SDK, sent as `sdk_version: jq-ts/<version>`; kept equal to package.json's (a unit test checks). */
export const SDK_VERSION = "0.1.0";
export const SDK_NAME = `jq-ts/${SDK_VERSION}`;
