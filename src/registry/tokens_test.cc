#include "edgeloop/registry/tokens.h"

#include <gtest/gtest.h>

#include "test/support/temp_dir.h"

namespace edgeloop::registry {
namespace {

const Actor kLocal{"local", "local"};

TEST(TokenStore, CreateAuthenticateRevoke) {
  testing_support::TempDir dir;
  auto store = TokenStore::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto admin = (*store)->Create(Role::kAdmin, "", "ci", kLocal);
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  EXPECT_EQ(admin->secret.rfind("elt_", 0), 0u);
  EXPECT_EQ(admin->secret.size(), 4u + 64u);
  auto dev = (*store)->Create(Role::kDevice, "press-7", "", kLocal);
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev->info.name.rfind("device-press-7-", 0), 0u) << dev->info.name;
  EXPECT_NE(dev->secret, admin->secret);

  auto who = (*store)->Authenticate(admin->secret);
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->name, "ci");
  EXPECT_EQ(who->role, Role::kAdmin);
  auto who_dev = (*store)->Authenticate(dev->secret);
  ASSERT_TRUE(who_dev.ok());
  EXPECT_EQ(who_dev->device_id, "press-7");

  EXPECT_EQ((*store)->Authenticate("elt_nope").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ((*store)->Authenticate("").status().code(), StatusCode::kPermissionDenied);

  ASSERT_TRUE((*store)->Revoke("ci", kLocal).ok());
  auto revoked = (*store)->Authenticate(admin->secret);
  EXPECT_EQ(revoked.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(revoked.status().message().find("revoked"), std::string::npos);
  ASSERT_TRUE((*store)->Revoke(std::to_string(dev->info.id), kLocal).ok());
  EXPECT_FALSE((*store)->Authenticate(dev->secret).ok());
  EXPECT_EQ((*store)->Revoke("nobody", kLocal).status().code(), StatusCode::kNotFound);

  auto list = (*store)->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_FALSE((*list)[0].revoked.empty());
}

TEST(TokenStore, RejectsBadInput) {
  testing_support::TempDir dir;
  auto store = TokenStore::Open(dir.path());
  ASSERT_TRUE(store.ok());
  EXPECT_FALSE((*store)->Create(Role::kAdmin, "dev-1", "", kLocal).ok()) << "admin tokens are not bound to devices";
  EXPECT_FALSE((*store)->Create(Role::kDevice, "../etc", "", kLocal).ok());
  ASSERT_TRUE((*store)->Create(Role::kAdmin, "", "same", kLocal).ok());
  auto dup = (*store)->Create(Role::kAdmin, "", "same", kLocal);
  EXPECT_EQ(dup.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseRole("root").ok());
}

TEST(TokenStore, SecondProcessSeesChanges) {
  // Two stores on one directory behave like the server and a `token` command.
  testing_support::TempDir dir;
  auto server = TokenStore::Open(dir.path());
  auto cli = TokenStore::Open(dir.path());
  ASSERT_TRUE(server.ok() && cli.ok());
  auto t = (*cli)->Create(Role::kDevice, "", "", kLocal);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE((*server)->Authenticate(t->secret).ok());
  ASSERT_TRUE((*cli)->Revoke(t->info.name, kLocal).ok());
  EXPECT_FALSE((*server)->Authenticate(t->secret).ok());
}

}  // namespace
}  // namespace edgeloop::registry
