-- Q1 by hand as one statement returning the JSON answer, as PostGraphile builds it.
WITH visible AS (
  SELECT g.customer_id AS id, g.rights FROM grants g
   WHERE g.partner_id = :partner::uuid AND g.status = 'ACTIVE' AND g.ends_at > now()
), page AS (
  SELECT o.id, o.name, v.rights FROM organizations o JOIN visible v ON v.id = o.id
   WHERE o.kind = 'CUSTOMER' ORDER BY o.id LIMIT 50
)
SELECT json_build_object(
  'totalCount', (SELECT count(*) FROM organizations o JOIN visible v ON v.id = o.id WHERE o.kind = 'CUSTOMER'),
  'nodes', (SELECT json_agg(json_build_object('id', page.id, 'name', page.name, 'rights', page.rights,
      'summary', (SELECT json_build_object('plans', json_agg(DISTINCT p.code), 'licences', sum(s.seats),
                                           'nextRenewalAt', min(s.current_period_end))
                    FROM subscriptions s JOIN plans p ON p.id = s.plan_id
                   WHERE s.customer_id = page.id AND s.status = 'ACTIVE')) ORDER BY page.id) FROM page));
