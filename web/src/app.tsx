import type { ComponentChildren } from "preact";
import { cart, isAdmin, session, signOut } from "./api.js";
import { AdminPage } from "./pages/admin.js";
import { RegisterPage, SignInPage } from "./pages/account.js";
import { CartPage, CheckoutPage } from "./pages/cart.js";
import { OrderPage, OrdersPage } from "./pages/orders.js";
import { ProductPage, ShopPage } from "./pages/shop.js";
import { href, navigate, useRoute, type Route } from "./router.js";
import { useStore } from "./store.js";
import { Page } from "./ui.js";

/** Pages that need a signed-in customer send visitors to sign in first, then back. */
function RequireUser({ route, children }: { route: Route; children: ComponentChildren }) {
  const { user, restoring } = useStore(session);
  if (restoring) return <p aria-busy="true">Signing you back in…</p>;
  if (!user) {
    const next = `#/${route.path.map(encodeURIComponent).join("/")}`;
    return (
      <Page title="Please sign in">
        <p>
          <a href={`#/signin?next=${encodeURIComponent(next)}`}>Sign in</a> or <a href={`#/register?next=${encodeURIComponent(next)}`}>create an account</a> to
          continue.
        </p>
      </Page>
    );
  }
  return <>{children}</>;
}

function Content({ route }: { route: Route }) {
  const [first, second] = route.path;
  switch (first) {
    case undefined:
      return <ShopPage route={route} />;
    case "product":
      return <ProductPage productId={second ?? ""} />;
    case "signin":
      return <SignInPage route={route} />;
    case "register":
      return <RegisterPage route={route} />;
    case "cart":
      return (
        <RequireUser route={route}>
          <CartPage />
        </RequireUser>
      );
    case "checkout":
      return (
        <RequireUser route={route}>
          <CheckoutPage />
        </RequireUser>
      );
    case "orders":
      return <RequireUser route={route}>{second ? <OrderPage orderId={second} /> : <OrdersPage />}</RequireUser>;
    case "admin":
      return (
        <RequireUser route={route}>
          <AdminPage />
        </RequireUser>
      );
    default:
      return (
        <Page title="Page not found">
          <a href="#/">Back to the shop</a>
        </Page>
      );
  }
}

export function App() {
  const route = useRoute();
  const { user } = useStore(session);
  const currentCart = useStore(cart);
  const count = currentCart?.itemCount ?? 0;
  return (
    <>
      <a class="skip" href="#main" onClick={(event) => (event.preventDefault(), document.getElementById("main")?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="#/">
          shopmesh
        </a>
        <nav aria-label="Account">
          <ul>
            {user ? (
              <>
                <li>
                  <a href="#/cart">Cart{count ? ` (${count})` : ""}</a>
                </li>
                <li>
                  <a href="#/orders">Orders</a>
                </li>
                {isAdmin(user) && (
                  <li>
                    <a href="#/admin">Admin</a>
                  </li>
                )}
                <li>
                  <button
                    type="button"
                    class="link"
                    onClick={() => {
                      void signOut();
                      navigate(href());
                    }}
                  >
                    Sign out <span class="who">({user.displayName})</span>
                  </button>
                </li>
              </>
            ) : (
              <>
                <li>
                  <a href="#/signin">Sign in</a>
                </li>
                <li>
                  <a href="#/register">Register</a>
                </li>
              </>
            )}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <Content route={route} />
      </main>
    </>
  );
}
