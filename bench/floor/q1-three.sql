-- Q1 by hand, three statements: the page of customers the partner sees, its count, and each
-- customer's subscription summary with the partner's rights there.
SELECT o.id, o.name FROM organizations o
 WHERE o.kind = 'CUSTOMER'
   AND o.id IN (SELECT g.customer_id FROM grants g WHERE g.partner_id = :partner::uuid AND g.status = 'ACTIVE' AND g.ends_at > now()
                UNION SELECT m.organization_id FROM memberships m WHERE m.user_id = :userid::uuid)
 ORDER BY o.id LIMIT 51;
SELECT count(*) FROM organizations o
 WHERE o.kind = 'CUSTOMER'
   AND o.id IN (SELECT g.customer_id FROM grants g WHERE g.partner_id = :partner::uuid AND g.status = 'ACTIVE' AND g.ends_at > now()
                UNION SELECT m.organization_id FROM memberships m WHERE m.user_id = :userid::uuid);
SELECT s.customer_id, string_agg(DISTINCT p.code, ','), sum(s.seats), min(s.current_period_end), max(g.rights)
  FROM subscriptions s JOIN plans p ON p.id = s.plan_id
  JOIN grants g ON g.customer_id = s.customer_id AND g.partner_id = :partner::uuid AND g.status = 'ACTIVE'
 WHERE s.status = 'ACTIVE'
   AND s.customer_id IN (SELECT o.id FROM organizations o
        WHERE o.kind = 'CUSTOMER'
          AND o.id IN (SELECT g2.customer_id FROM grants g2 WHERE g2.partner_id = :partner::uuid AND g2.status = 'ACTIVE' AND g2.ends_at > now())
        ORDER BY o.id LIMIT 50)
 GROUP BY s.customer_id;
