/** The secret every test server signs its tokens with (never used outside tests). */
export const TEST_SECRET = "edgechat-test-secret-0123456789abcdef-0123456789";
